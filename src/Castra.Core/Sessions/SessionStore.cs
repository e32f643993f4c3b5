using System.Text.Json;
using Castra.Serialization;
using Castra.State;

namespace Castra.Sessions;

/// <summary>
/// Session records of one VM, <c>vms/&lt;name&gt;/sessions/&lt;RunId&gt;.json</c>, each replaced atomically; updates
/// (the starter recording an exit, a shutdown recording a drain) are serialized by <c>sessions/.lock</c>.
/// </summary>
internal static class SessionStore
{
    public static string Directory(VmPaths vm) => Path.Combine(vm.Directory, "sessions");

    public static string RecordPath(VmPaths vm, string runId) => Path.Combine(Directory(vm), runId + ".json");

    public static string LogPath(VmPaths vm, string runId) => Path.Combine(Directory(vm), runId + ".log");

    public static void Write(VmPaths vm, VmSession session)
    {
        System.IO.Directory.CreateDirectory(Directory(vm));
        AtomicFile.WriteAllText(RecordPath(vm, session.RunId), JsonSerializer.Serialize(session, CastraJsonContext.Default.VmSession));
    }

    public static IReadOnlyList<VmSession> ReadAll(VmPaths vm)
    {
        var dir = Directory(vm);
        if (!System.IO.Directory.Exists(dir))
        {
            return [];
        }

        var sessions = new List<VmSession>();
        foreach (var file in System.IO.Directory.EnumerateFiles(dir, "*.json"))
        {
            if (TryRead(file) is { } session)
            {
                sessions.Add(session with { StateRoot = vm.Root.Path });
            }
        }

        return sessions.OrderBy(s => s.StartedAt).ThenBy(s => s.RunId, StringComparer.Ordinal).ToList();
    }

    /// <summary>Read-modify-write under the sessions lock; null when the record is gone.</summary>
    public static VmSession? Update(VmPaths vm, string runId, Func<VmSession, VmSession> change)
    {
        using var _ = FileLock.Acquire(Path.Combine(Directory(vm), ".lock"));
        if (TryRead(RecordPath(vm, runId)) is not { } current)
        {
            return null;
        }

        var updated = change(current);
        Write(vm, updated);
        return updated with { StateRoot = vm.Root.Path };
    }

    private static VmSession? TryRead(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), CastraJsonContext.Default.VmSession);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            // A record being replaced or damaged is skipped, not fatal: the others still matter.
            return null;
        }
    }
}
