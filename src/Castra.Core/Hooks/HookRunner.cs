using System.Diagnostics;
using System.Globalization;
using Castra.Processes;
using Castra.State;

namespace Castra.Hooks;

/// <summary>
/// Runs one hook: a child leading its own process group, CASTRA_* in its environment, output to its log in the
/// VM's directory, and at its timeout the whole group terminated (SIGTERM, then SIGKILL after a short grace).
/// Whatever it spawned is ended with it, even when the hook itself exits in time.
/// </summary>
internal static class HookRunner
{
    /// <summary>The log's name in the VM's <c>hooks/</c> directory: one per hook and stage, rewritten by every run.</summary>
    public static string LogNameFor(CleanupHook hook) => $"{hook.Stage}.{hook.Name}.log";

    public static string LogPathFor(HookContext context, CleanupHook hook) =>
        Path.Combine(context.Vm.Directory, VmDirectory.HooksDirectoryName, LogNameFor(hook));

    /// <param name="onStarted">Told the hook's group as soon as it runs (recorded, so a takeover can end it).</param>
    public static async Task<HookResult> RunAsync(CleanupHook hook, HookContext context, Action<GroupLeader> onStarted, CancellationToken cancellationToken)
    {
        var log = LogPathFor(context, hook);
        var timeout = TimeSpan.FromMilliseconds(hook.TimeoutMs);
        var started = Stopwatch.GetTimestamp();
        GroupLeader child;
        StateDirectory logs;
        try
        {
            // hooks/ is 0700 and each log 0600, opened here without following links: a hook's output (which may
            // hold secrets) never lands in a file someone else planted or can read.
            logs = context.Directory.OpenHooks();
            try
            {
                using var output = logs.OpenForWriting(LogNameFor(hook), StateDirectory.WriteMode.Truncate);
                child = GroupLeader.Start(RequestFor(hook, context, output, DateTime.UtcNow + timeout));
            }
            catch
            {
                logs.Dispose();
                throw;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new HookResult(hook, HookStatus.Failed, Ms(started), null, $"could not start: {ex.Message}", log);
        }

        using (logs)
        using (child)
        {
            onStarted(child);
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
                        result = new HookResult(hook, HookStatus.Failed, Ms(started), code, WithTail($"{why}{note}", logs, hook), log);
                    }
                }
                else
                {
                    await child.TerminateGroupAsync(cancellationToken).ConfigureAwait(false);
                    result = new HookResult(hook, HookStatus.TimedOut, Ms(started), child.Exit?.Code,
                        WithTail($"did not finish within {Events.EventText.Seconds(hook.TimeoutMs)}; its process group was terminated (SIGTERM, then SIGKILL after {GroupLeader.Grace.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s)", logs, hook), log);
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

    private static SpawnRequest RequestFor(CleanupHook hook, HookContext context, Microsoft.Win32.SafeHandles.SafeFileHandle output, DateTimeOffset deadline)
    {
        var scriptBlock = hook.Kind == nameof(HookKind.ScriptBlock);
        var arguments = scriptBlock ? ScriptBlockCommand.Arguments(hook.ScriptBlock ?? "", hook.Arguments) : hook.Arguments;
        var executable = scriptBlock
            ? PowerShellRuntime.Find(hook.Executable) ?? throw new IOException("no pwsh was found on PATH or where it was when the hook was registered")
            : hook.Executable;
        return new SpawnRequest(executable, arguments, output)
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

    private static string WithTail(string message, StateDirectory logs, CleanupHook hook) =>
        LogTail.Read(logs, LogNameFor(hook)) is { } tail ? $"{message}; output: {tail}" : message;

    private static long Ms(long started) => (long)Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
}
