using System.Diagnostics;
using System.Globalization;
using Castra.Processes;

namespace Castra.Hooks;

/// <summary>
/// Runs one hook: a child leading its own process group, CASTRA_* in its environment, output to its log in the
/// VM's directory, and at its timeout the whole group terminated (SIGTERM, then SIGKILL after a short grace).
/// Whatever it spawned is ended with it, even when the hook itself exits in time.
/// </summary>
internal static class HookRunner
{
    public static string LogPathFor(HookContext context, CleanupHook hook) =>
        Path.Combine(context.Vm.Directory, "hooks", $"{hook.Stage}.{hook.Name}.log");

    public static async Task<HookResult> RunAsync(CleanupHook hook, HookContext context, CancellationToken cancellationToken)
    {
        var log = LogPathFor(context, hook);
        var timeout = TimeSpan.FromMilliseconds(hook.TimeoutMs);
        var started = Stopwatch.GetTimestamp();
        GroupLeader child;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(log)!);
            child = GroupLeader.Start(RequestFor(hook, context, log, DateTimeOffset.UtcNow + timeout));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new HookResult(hook, HookStatus.Failed, Ms(started), null, $"could not start: {ex.Message}", log);
        }

        using (child)
        {
            var settled = false;
            try
            {
                HookResult result;
                if (await child.WaitForExitAsync(timeout, cancellationToken).ConfigureAwait(false))
                {
                    // The hook is done; anything it left running in its group is not allowed to outlive it.
                    var leftovers = child.HasLiveMembers;
                    await child.TerminateGroupAsync(cancellationToken).ConfigureAwait(false);
                    var exit = child.Exit;
                    var code = exit?.Code;
                    var note = leftovers ? "; processes it left running were terminated" : "";
                    if (code == 0)
                    {
                        result = new HookResult(hook, HookStatus.Succeeded, Ms(started), 0, leftovers ? note[2..] : null, log);
                    }
                    else
                    {
                        var why = exit is null ? "its exit status was lost (reaped elsewhere)" : exit.Value.ToString();
                        result = new HookResult(hook, HookStatus.Failed, Ms(started), code, WithTail($"{why}{note}", log), log);
                    }
                }
                else
                {
                    await child.TerminateGroupAsync(cancellationToken).ConfigureAwait(false);
                    result = new HookResult(hook, HookStatus.TimedOut, Ms(started), child.Exit?.Code,
                        WithTail($"did not finish within {Events.EventText.Seconds(hook.TimeoutMs)}; its process group was terminated (SIGTERM, then SIGKILL after {GroupLeader.Grace.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s)", log), log);
                }

                settled = true;
                return result;
            }
            finally
            {
                // Cancelled, or the wait itself failed: the hook's group must not run on unsupervised.
                if (!settled)
                {
                    await child.KillGroupAsync().ConfigureAwait(false);
                }
            }
        }
    }

    private static SpawnRequest RequestFor(CleanupHook hook, HookContext context, string log, DateTimeOffset deadline)
    {
        var arguments = hook.Kind == nameof(HookKind.ScriptBlock)
            ? ScriptBlockCommand.Arguments(hook.ScriptBlock ?? "")
            : hook.Arguments;
        return new SpawnRequest(hook.Executable, arguments, log)
        {
            // A registration directory that is gone fails the hook ("could not start"): a silent other directory could
            // make relative arguments point somewhere else.
            WorkingDirectory = hook.WorkingDirectory ?? context.Vm.Directory,
            Environment = new Dictionary<string, string>
            {
                ["CASTRA_VM_NAME"] = context.Vm.Name,
                ["CASTRA_STAGE"] = context.Stage.ToString(),
                ["CASTRA_REASON"] = context.Reason,
                ["CASTRA_STATE_DIR"] = context.Vm.Directory,
                ["CASTRA_DEADLINE"] = deadline.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["CASTRA_HOOK_NAME"] = hook.Name,
                ["CASTRA_SHUTDOWN_ID"] = context.ShutdownId,
                ["CASTRA_HOME"] = context.Vm.Root.Path,
            },
        };
    }

    private static string WithTail(string message, string log) =>
        LogTail.Read(log) is { } tail ? $"{message}; output: {tail}" : message;

    private static long Ms(long started) => (long)Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
}
