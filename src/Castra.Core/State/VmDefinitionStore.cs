using System.Text.Json;
using Castra.Errors;
using Castra.Serialization;

namespace Castra.State;

/// <summary>Reads and writes <c>vm.json</c>.</summary>
public static class VmDefinitionStore
{
    /// <summary>Null when the VM has no vm.json.</summary>
    /// <exception cref="CastraException">ErrorId CastraVmDefinitionInvalid: the file exists but cannot be used.</exception>
    public static VmDefinition? TryRead(VmPaths vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        try
        {
            using var dir = VmDirectory.TryOpen(vm);
            return dir is null ? null : TryRead(dir);
        }
        catch (IOException ex)
        {
            throw Invalid(vm, ex);
        }
    }

    /// <summary>
    /// Null when the VM has no vm.json. Any owner's file is read (a bring-your-own VM's owner sets its timeouts), but
    /// only one owned by root or the caller, with a single link, writable by no one else, in a VM directory owned by root
    /// or the caller and writable by no one else, is
    /// marked <see cref="VmDefinition.OwnerTrusted"/>: only that one can prove a process's identity or name a file
    /// Castra deletes.
    /// </summary>
    /// <exception cref="CastraException">ErrorId CastraVmDefinitionInvalid: the file exists but cannot be used.</exception>
    internal static VmDefinition? TryRead(VmDirectory vm)
    {
        StateFileContent? content;
        try
        {
            content = vm.Files.ReadAll(VmDirectory.DefinitionName, StateLimits.DefinitionBytes, requireTrustedOwner: false);
        }
        catch (IOException ex)
        {
            throw Invalid(vm.Paths, ex);
        }

        if (content is null)
        {
            return null;
        }

        try
        {
            var definition = JsonSerializer.Deserialize(content.Bytes, CastraJsonContext.Default.VmDefinition)
                ?? throw new JsonException("the file holds null");
            Check(definition.CooperativeTimeoutSeconds, nameof(VmDefinition.CooperativeTimeoutSeconds));
            Check(definition.TermTimeoutSeconds, nameof(VmDefinition.TermTimeoutSeconds));
            Check(definition.KillTimeoutSeconds, nameof(VmDefinition.KillTimeoutSeconds));
            if (definition.ShutdownOrder is { } order && !Shutdown.ShutdownOrder.IsValid(order))
            {
                throw new JsonException($"ShutdownOrder must be between {Shutdown.ShutdownOrder.Min} and {Shutdown.ShutdownOrder.Max}, not {order}");
            }

            Check(definition.SaveTimeoutSeconds, nameof(VmDefinition.SaveTimeoutSeconds));
            _ = VmDefinition.ParseEscalation(definition.Escalation);
            if (definition.BootId is { Length: > 64 })
            {
                throw new JsonException("BootId is longer than a boot id");
            }

            // In a directory someone else owns, or may write, they could have put any root-owned file there under this name.
            definition.OwnerTrusted = content.OwnerTrusted && vm.Files.Controlled;
            return definition;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentOutOfRangeException)
        {
            throw Invalid(vm.Paths, ex);
        }
    }

    /// <summary>
    /// As <see cref="TryRead(VmDirectory)"/>, but a vm.json that cannot be used is null too: for a look that goes on with
    /// the defaults (a plan, a listing, a budget, an identity check), while the shutdown itself warns about it.
    /// </summary>
    internal static VmDefinition? ReadOrNull(VmDirectory vm)
    {
        try
        {
            return TryRead(vm);
        }
        catch (CastraException)
        {
            return null;
        }
    }

    public static void Write(VmPaths vm, VmDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(vm);
        using var dir = VmDirectory.OpenOrCreate(vm);
        Write(dir, definition);
    }

    internal static void Write(VmDirectory vm, VmDefinition definition) =>
        vm.Files.Replace(VmDirectory.DefinitionName, JsonSerializer.SerializeToUtf8Bytes(definition, CastraIndentedJsonContext.Default.VmDefinition));

    private static CastraException Invalid(VmPaths vm, Exception ex) =>
        new(ErrorIds.VmDefinitionInvalid, CastraErrorCategory.InvalidData, $"{vm.Definition} is not a valid VM definition: {ex.Message}", ex)
        {
            Target = vm.Name,
        };

    private static void Check(double? seconds, string field)
    {
        if (seconds is { } s && !Shutdown.ShutdownTimeouts.IsValidSeconds(s))
        {
            throw new ArgumentOutOfRangeException(field, s, $"{field} must be between 0 and {Shutdown.ShutdownTimeouts.MaxSeconds} seconds");
        }
    }
}
