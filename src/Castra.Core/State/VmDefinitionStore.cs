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
        string text;
        try
        {
            text = File.ReadAllText(vm.Definition);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            var definition = JsonSerializer.Deserialize(text, CastraJsonContext.Default.VmDefinition)
                ?? throw new JsonException("the file holds null");
            Check(definition.CooperativeTimeoutSeconds, nameof(VmDefinition.CooperativeTimeoutSeconds));
            Check(definition.TermTimeoutSeconds, nameof(VmDefinition.TermTimeoutSeconds));
            Check(definition.KillTimeoutSeconds, nameof(VmDefinition.KillTimeoutSeconds));
            return definition;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentOutOfRangeException)
        {
            throw new CastraException(
                ErrorIds.VmDefinitionInvalid,
                CastraErrorCategory.InvalidData,
                $"{vm.Definition} is not a valid VM definition: {ex.Message}",
                ex)
            {
                Target = vm.Name,
            };
        }
    }

    public static void Write(VmPaths vm, VmDefinition definition) =>
        AtomicFile.WriteAllText(vm.Definition, JsonSerializer.Serialize(definition, CastraIndentedJsonContext.Default.VmDefinition));

    private static void Check(double? seconds, string field)
    {
        if (seconds is { } s && !Shutdown.ShutdownTimeouts.IsValidSeconds(s))
        {
            throw new ArgumentOutOfRangeException(field, s, $"{field} must be between 0 and {Shutdown.ShutdownTimeouts.MaxSeconds} seconds");
        }
    }
}
