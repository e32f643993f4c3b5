using System.Text.Json;
using Castra.Serialization;

namespace Castra.State;

/// <summary>Reads and writes <c>shutdown.json</c>.</summary>
internal static class StatusStore
{
    public static void Write(VmDirectory vm, StatusDocument document) => Write(vm, Serialize(document));

    /// <summary>The file's content (taken under the caller's lock; written later, outside it).</summary>
    public static byte[] Serialize(StatusDocument document) => JsonSerializer.SerializeToUtf8Bytes(document, CastraIndentedJsonContext.Default.StatusDocument);

    /// <summary>
    /// Replaced atomically (rename), not forced to disk: a crashed orchestrator loses nothing (the page cache outlives
    /// it), and the run makes its state durable once, before it first acts on QEMU (<see cref="GroupCommit"/>).
    /// </summary>
    public static void Write(VmDirectory vm, byte[] content) => vm.Files.Replace(VmDirectory.StatusName, content, durable: false);

    /// <summary>Opens the VM's directory for one read (cold paths; a run reads through the directory it holds).</summary>
    /// <exception cref="InvalidDataException">The file or its directory is damaged, unsafe or unreadable.</exception>
    public static StatusDocument? TryRead(VmPaths vm)
    {
        try
        {
            using var dir = VmDirectory.TryOpen(vm);
            return dir is null ? null : TryRead(dir);
        }
        catch (IOException ex)
        {
            throw new InvalidDataException(ex.Message, ex);
        }
    }

    /// <summary>Null when the VM has never been shut down by Castra.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a status document, is unsafe or unreadable.</exception>
    public static StatusDocument? TryRead(VmDirectory vm)
    {
        StateFileContent? content;
        try
        {
            // Written by Castra only: a foreign-owned one would let another user steer takeovers and followers.
            content = vm.Files.ReadAll(VmDirectory.StatusName, StateLimits.StatusBytes, requireTrustedOwner: true);
        }
        catch (IOException ex)
        {
            throw new InvalidDataException(ex.Message, ex);
        }

        if (content is null)
        {
            return null;
        }

        try
        {
            var document = JsonSerializer.Deserialize(content.Bytes, CastraJsonContext.Default.StatusDocument)
                ?? throw new InvalidDataException($"{vm.Paths.Status} holds null");
            return document.Validate(vm.Paths);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{vm.Paths.Status} is not a Castra status document: {ex.Message}", ex);
        }
    }
}
