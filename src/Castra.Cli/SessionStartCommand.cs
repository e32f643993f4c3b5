using System.CommandLine;
using System.Globalization;
using Castra.Errors;
using Castra.Serialization;
using Castra.Sessions;
using Castra.State;

namespace Castra.Cli;

/// <summary>
/// <c>castra session start NAME [--detach] -- PROGRAM [ARGS...]</c>: run a program as a guest session of a running VM.
/// In the foreground (default) castra copies the session's log to stdout, passes Ctrl+C on, and exits with the
/// session's exit code; with --detach it prints the session and returns at once.
/// </summary>
internal static class SessionStartCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The running VM the session belongs to" };
        var program = new Argument<string[]>("PROGRAM") { Description = "The program and its arguments, after --", Arity = ArgumentArity.ZeroOrMore };
        var detach = new Option<bool>("--detach", "-d") { Description = "Print the started session and return at once instead of waiting for it" };
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();
        var command = new Command("start", "Run PROGRAM as a guest session of a running VM; a shutdown of the VM interrupts it first")
        {
            name, program, detach, json, home,
        };

        command.SetAction(async (parse, _) =>
        {
            var argv = parse.GetValue(program) ?? [];
            if (argv.Length == 0)
            {
                await Console.Error.WriteLineAsync("castra session start: give the program to run after --, e.g. castra session start web -- ssh web ./job.sh").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var asJson = parse.GetValue(json);
            using var signals = new SignalLadder();
            SessionManager manager;
            VmSession session;
            try
            {
                manager = new SessionManager(StateRoot.Resolve(parse.GetValue(home)), CliWording.Instance);
                session = await manager.StartAsync(parse.GetValue(name) ?? "", argv[0], argv[1..], cancellationToken: signals.FirstSignal).ConfigureAwait(false);
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"castra session start: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ExitCodeOf(ex);
            }
            catch (OperationCanceledException) when (signals.FirstSignal.IsCancellationRequested)
            {
                // Interrupted while the VM was being looked at: nothing was started.
                return ExitCodes.Interrupted;
            }

            if (parse.GetValue(detach))
            {
                if (asJson)
                {
                    Console.Out.WriteLine(CastraJson.Serialize(session));
                }
                else
                {
                    Console.Out.WriteLine(SessionCommand.Header);
                    Console.Out.WriteLine(SessionCommand.Row(session));
                }

                return ExitCodes.Success;
            }

            await Console.Error.WriteLineAsync($"castra session: started {session.RunId} on {session.VmName} (PID {session.Pid}); output in {session.LogPath}").ConfigureAwait(false);
            signals.Attach(
                signal => SessionManager.Signal(session, signal),
                (signal, delivered) => Console.Error.WriteLine(delivered
                    ? $"castra session: sent {SignalLadder.Name(signal)} to session {session.RunId}{(signal == SignalLadder.SigKill ? "" : $" (again: {SignalLadder.Name(SignalLadder.Next(signal))})")}"
                    : $"castra session: could not send {SignalLadder.Name(signal)}: session {session.RunId} is no longer running"));

            var wait = manager.WaitAsync(session, CancellationToken.None);
            var final = asJson ? await wait.ConfigureAwait(false) : await FollowAsync(wait, session.LogPath).ConfigureAwait(false);
            if (asJson && final is not null)
            {
                Console.Out.WriteLine(CastraJson.Serialize(final));
            }

            if (final?.ExitCode is not { } code)
            {
                await Console.Error.WriteLineAsync($"castra session: {session.RunId} ended; its exit code is unknown").ConfigureAwait(false);
                return ExitCodes.Refused;
            }

            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"castra session: {session.RunId} ended with exit code {code}{(final.InterruptedBy is { } by ? $" (interrupted by a shutdown: {by})" : "")}")).ConfigureAwait(false);
            return code;
        });

        return command;
    }

    /// <summary>
    /// Refusals before anything started: 3 for an unknown or invalid VM (as castra down), 2 for a program that was
    /// not found, 1 when the VM is not running, is shutting down or busy, or the program could not be started.
    /// </summary>
    private static int ExitCodeOf(CastraException ex) => ex.ErrorId switch
    {
        ErrorIds.VmNotFound or ErrorIds.InvalidVmName => ExitCodes.UnknownVm,
        ErrorIds.InvalidSessionCommand or ErrorIds.InvalidStateRoot => ExitCodes.Usage,
        _ => ExitCodes.Refused,
    };

    /// <summary>Copies the session's log to stdout as it grows, until the session ends (then the rest of it).</summary>
    private static async Task<VmSession?> FollowAsync(Task<VmSession?> wait, string logPath)
    {
        var stdout = Console.OpenStandardOutput();
        await using (stdout.ConfigureAwait(false))
        {
            FileStream? log = null;
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var ended = wait.IsCompleted;
                    log ??= TryOpen(logPath);
                    if (log is not null)
                    {
                        int read;
                        while ((read = await log.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                        {
                            await stdout.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                        }

                        await stdout.FlushAsync().ConfigureAwait(false);
                    }

                    if (ended)
                    {
                        break;
                    }

                    await Task.WhenAny(wait, Task.Delay(100)).ConfigureAwait(false);
                }
            }
            finally
            {
                if (log is not null)
                {
                    await log.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        return await wait.ConfigureAwait(false);
    }

    private static FileStream? TryOpen(string path)
    {
        try
        {
            // Shared for writing (the session appends) and unbuffered, so growth past an earlier end is seen.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
