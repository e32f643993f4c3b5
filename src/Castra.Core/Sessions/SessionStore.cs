using System.Text.Json;
using System.Text.RegularExpressions;
using Castra.Serialization;
using Castra.State;
using Microsoft.Win32.SafeHandles;

namespace Castra.Sessions;

/// <summary>
/// Session records of one VM, <c>vms/&lt;name&gt;/sessions/&lt;RunId&gt;.json</c> (0600 in a 0700 directory owned by
/// root or the caller), each replaced atomically; updates (the starter recording an exit, a shutdown recording a
/// drain) are serialized by <c>sessions/.lock</c>. A record tells a shutdown which process groups to signal, so one
/// not owned by root or the caller, or not matching its file name, is never believed.
/// </summary>
internal static partial class SessionStore
{
    private const string LockName = ".lock";

    public static string Directory(VmPaths vm) => Path.Combine(vm.Directory, VmDirectory.SessionsDirectoryName);

    public static string LogPath(VmPaths vm, string runId) => Path.Combine(Directory(vm), runId + ".log");

    public static bool IsRunId(string? runId) => runId is not null && RunIdPattern().IsMatch(runId);

    /// <summary>The session's log (0600, truncated), for its output.</summary>
    public static SafeFileHandle OpenLog(VmDirectory vm, string runId)
    {
        using var dir = vm.OpenSessions(create: true)!;
        return dir.OpenForWriting(runId + ".log", StateDirectory.WriteMode.Truncate);
    }

    public static void Write(VmDirectory vm, VmSession session)
    {
        using var dir = vm.OpenSessions(create: true)!;
        Write(dir, session);
    }

    public static void Write(VmPaths vm, VmSession session)
    {
        using var dir = VmDirectory.OpenOrCreate(vm);
        Write(dir, session);
    }

    /// <summary>Every believable record, oldest first (damaged, foreign-owned or mismatched ones are skipped).</summary>
    /// <exception cref="IOException">sessions/ is unsafe (a link, foreign-owned).</exception>
    public static IReadOnlyList<VmSession> ReadAll(VmDirectory vm)
    {
        using var dir = vm.OpenSessions(create: false);
        if (dir is null)
        {
            return [];
        }

        var sessions = new List<VmSession>();
        foreach (var name in dir.ListNames())
        {
            if (name.EndsWith(".json", StringComparison.Ordinal) && TryRead(dir, vm, name[..^5]) is { } session)
            {
                sessions.Add(session);
            }
        }

        return sessions.OrderBy(s => s.StartedAt).ThenBy(s => s.RunId, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// For listings and plans: a VM whose directory or sessions/ is refused (a link, another user's) shows no sessions
    /// rather than failing the whole listing; a shutdown, which reads through <see cref="ReadAll(VmDirectory)"/>, warns.
    /// </summary>
    public static IReadOnlyList<VmSession> ReadAll(VmPaths vm)
    {
        try
        {
            using var dir = VmDirectory.TryOpen(vm);
            return dir is null ? [] : ReadAll(dir);
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>Read-modify-write under the sessions lock; null when the record is gone.</summary>
    public static VmSession? Update(VmDirectory vm, string runId, Func<VmSession, VmSession> change)
    {
        using var dir = vm.OpenSessions(create: false);
        if (dir is null || !IsRunId(runId))
        {
            return null;
        }

        using var _ = FileLock.Acquire(dir, LockName);
        if (TryRead(dir, vm, runId) is not { } current)
        {
            return null;
        }

        var updated = change(current);
        Write(dir, updated);
        return updated with { StateRoot = vm.Paths.Root.Path };
    }

    public static VmSession? Update(VmPaths vm, string runId, Func<VmSession, VmSession> change)
    {
        using var dir = VmDirectory.TryOpen(vm);
        return dir is null ? null : Update(dir, runId, change);
    }

    /// <summary>Replaced atomically, not forced to disk: a session record describes a process, which a power failure ends too.</summary>
    private static void Write(StateDirectory dir, VmSession session) =>
        dir.Replace(session.RunId + ".json", JsonSerializer.SerializeToUtf8Bytes(session, CastraJsonContext.Default.VmSession), durable: false);

    private static VmSession? TryRead(StateDirectory dir, VmDirectory vm, string runId)
    {
        if (!IsRunId(runId))
        {
            return null;
        }

        try
        {
            var content = dir.ReadAll(runId + ".json", StateLimits.SessionRecordBytes, requireTrustedOwner: true);
            var session = content is null ? null : JsonSerializer.Deserialize(content.Bytes, CastraJsonContext.Default.VmSession);
            return session is not null && session.RunId == runId && session.VmName == vm.Name && session.Pid > 1
                && session.Arguments is not null && session.Status is not null
                ? session with { StateRoot = vm.Paths.Root.Path }
                : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException or InvalidOperationException)
        {
            // A record being replaced, damaged or not to be believed is skipped, not fatal: the others still matter.
            return null;
        }
    }

    [GeneratedRegex(@"\A[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdPattern();
}
