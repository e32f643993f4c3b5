using System.Collections.Concurrent;
using System.Globalization;
using Castra.Errors;
using Castra.Launch;
using Castra.Processes;
using Castra.State;

namespace Castra.Sessions;

/// <summary>
/// Starts and lists guest sessions: host processes doing in-flight work tied to a VM, each leading its own process
/// group with its output in <c>vms/&lt;name&gt;/sessions/&lt;RunId&gt;.log</c>. A shutdown of the VM interrupts them
/// first (SIGINT, the drain period, then SIGTERM/SIGKILL). The process that starts a session records its exit.
/// </summary>
public sealed class SessionManager
{
    // Sessions started by this process: their exit is recorded by a watcher here (only a parent learns exit codes).
    private static readonly ConcurrentDictionary<string, Task<VmSession?>> Watchers = new(StringComparer.Ordinal);

    public SessionManager(StateRoot root, Text.Wording? wording = null)
    {
        Root = root;
        Wording = wording ?? Text.Wording.Neutral;
    }

    /// <summary>How the calling face spells the commands its messages name.</summary>
    public Text.Wording Wording { get; }

    public StateRoot Root { get; }

    /// <summary>Starts <paramref name="program"/> as a session of a running VM.</summary>
    /// <exception cref="CastraException">
    /// CastraVmNotFound, CastraVmNotRunning, CastraVmShuttingDown / CastraVmBusy (refused while a shutdown runs),
    /// CastraInvalidSessionCommand, CastraSessionStartFailed.
    /// </exception>
    public async Task<VmSession> StartAsync(string vmName, string program, IReadOnlyList<string> arguments, string? workingDirectory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var vm = Root.Vm(vmName);
        using var dir = OpenVm(vm);
        var cwd = Path.GetFullPath(workingDirectory ?? Environment.CurrentDirectory);
        var executable = ResolveProgram(program, cwd, vm.Name);

        // Holding the VM's lock while starting: a shutdown cannot begin half-way, and while one runs this is refused.
        using var vmLock = Try(vm, () => VmLock.TryAcquire(dir)) ?? throw VmBusy.Refusal(dir, "no session can be started on it");
        var info = await VmInventory.DescribeAsync(vm, cancellationToken).ConfigureAwait(false);
        if (info.State != nameof(VmState.Running))
        {
            throw new CastraException(ErrorIds.VmNotRunning, CastraErrorCategory.ResourceUnavailable,
                $"VM '{vm.Name}' is {info.State}, not Running; a session is work tied to a running VM (start it: {Wording.StartCommand(vm.Name)}).")
            { Target = vm.Name };
        }

        var startedAt = DateTime.UtcNow;
        var runId = $"{startedAt:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 4).ToLowerInvariant()}";
        var log = SessionStore.LogPath(vm, runId);
        GroupLeader leader;
        try
        {
            using var output = SessionStore.OpenLog(dir, runId);
            leader = GroupLeader.Start(new SpawnRequest(executable, arguments, output)
            {
                WorkingDirectory = cwd,
                Environment = new Dictionary<string, string>
                {
                    ["CASTRA_VM_NAME"] = vm.Name,
                    ["CASTRA_SESSION_ID"] = runId,
                    ["CASTRA_HOME"] = Root.Path,
                },
            });
        }
        catch (IOException ex)
        {
            throw new CastraException(ErrorIds.SessionStartFailed, CastraErrorCategory.InvalidOperation, $"The session did not start: {ex.Message}.", ex) { Target = vm.Name };
        }

        var session = new VmSession
        {
            RunId = runId,
            VmName = vm.Name,
            Pid = leader.Pid,
            Status = nameof(SessionStatus.Running),
            StartedAt = startedAt,
            Command = CommandLineText.Format(program, arguments),
            Executable = executable,
            Arguments = arguments.ToArray(),
            LogPath = log,
            ProcessStartTime = leader.StartTime,
            BootId = HostClock.BootId,
            StateRoot = Root.Path,
        };
        Try(vm, () => SessionStore.Write(dir, session));
        Watchers[Key(vm, runId)] = Task.Run(() => WatchAsync(vm, runId, leader), CancellationToken.None);
        return session;
    }

    /// <summary>Sessions of one VM (or of every VM), oldest first. A session whose process vanished unobserved shows Stopped.</summary>
    public IReadOnlyList<VmSession> List(string? vmName = null)
    {
        var names = vmName is null ? Root.ListVmNames() : [VmName.Validate(vmName)];
        return names.SelectMany(name => SessionStore.ReadAll(Root.Vm(name))).Select(Observed).ToList();
    }

    /// <summary>
    /// Waits for a session this process started to end and returns its final record (with ExitCode); for a
    /// session started elsewhere, returns its current record at once.
    /// </summary>
    public async Task<VmSession?> WaitAsync(VmSession session, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        var vm = Root.Vm(session.VmName);
        if (Watchers.TryGetValue(Key(vm, session.RunId), out var watcher))
        {
            return await watcher.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return SessionStore.ReadAll(vm).Where(s => s.RunId == session.RunId).Select(Observed).FirstOrDefault();
    }

    /// <summary>
    /// Sends a signal to every live process of a session's group (e.g. passing on Ctrl+C), each through a pidfd.
    /// False when nothing of the session is running.
    /// </summary>
    public static bool Signal(VmSession session, int signal)
    {
        ArgumentNullException.ThrowIfNull(session);
        return SessionProcess.SignalGroup(session, signal) > 0;
    }

    /// <summary>
    /// A session recorded active whose process is gone with nobody to record it (started with --detach, or its
    /// starter was killed) is recorded Stopped now, StoppedAt being when Castra noticed; its exit code is unknown.
    /// </summary>
    internal static VmSession Observed(VmSession session)
    {
        if (!session.IsActive || SessionProcess.IsAlive(session) || session.StateRoot.Length == 0)
        {
            return session;
        }

        var noticed = DateTime.UtcNow;
        try
        {
            var recorded = SessionStore.Update(new StateRoot(session.StateRoot).Vm(session.VmName), session.RunId, s =>
                s.IsActive && !SessionProcess.IsAlive(s) ? s with { Status = nameof(SessionStatus.Stopped), StoppedAt = s.StoppedAt ?? noticed } : s);
            return recorded ?? session with { Status = nameof(SessionStatus.Stopped) };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only view (another user's state root) still shows the truth; it just cannot record it.
            return session with { Status = nameof(SessionStatus.Stopped), StoppedAt = session.StoppedAt ?? noticed };
        }
    }

    private static async Task<VmSession?> WatchAsync(VmPaths vm, string runId, GroupLeader leader)
    {
        using (leader)
        {
            while (!await leader.WaitForExitAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).ConfigureAwait(false))
            {
                // An infinite wait only returns once the leader is gone; the loop guards the contract, not a poll.
            }

            var stoppedAt = DateTime.UtcNow;
            var exit = leader.CollectExit();
            try
            {
                return SessionStore.Update(vm, runId, s => s with
                {
                    Status = nameof(SessionStatus.Stopped),
                    StoppedAt = s.StoppedAt ?? stoppedAt,
                    ExitCode = exit?.Code,
                });
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
    }

    /// <exception cref="CastraException">CastraVmNotFound, or CastraUnsafeStateFile for a linked or unusable directory.</exception>
    private static VmDirectory OpenVm(VmPaths vm) =>
        Try(vm, () => VmDirectory.TryOpen(vm))
        ?? throw new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound, $"No VM named '{vm.Name}' under {vm.Root.Path}.") { Target = vm.Name };

    /// <summary>State-file failures as the stable error a face reports (the message says which file and why).</summary>
    private static T Try<T>(VmPaths vm, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (IOException ex)
        {
            throw StateFileError.For(vm, ex);
        }
    }

    private static void Try(VmPaths vm, Action work) => Try(vm, () =>
    {
        work();
        return true;
    });

    private static string Key(VmPaths vm, string runId) => $"{vm.Directory}\n{runId}";

    private static string ResolveProgram(string program, string cwd, string vmName)
    {
        if (string.IsNullOrWhiteSpace(program))
        {
            throw new CastraException(ErrorIds.InvalidSessionCommand, CastraErrorCategory.InvalidArgument, "A session needs a command to run.") { Target = vmName };
        }

        var candidate = program.Contains('/', StringComparison.Ordinal) ? Path.GetFullPath(program, cwd) : ExternalCommand.Which(program);
        if (candidate is null || !File.Exists(candidate))
        {
            throw new CastraException(ErrorIds.InvalidSessionCommand, CastraErrorCategory.ObjectNotFound,
                string.Format(CultureInfo.InvariantCulture, "The session's program '{0}' was not found{1}.", program, program.Contains('/', StringComparison.Ordinal) ? "" : " on PATH"))
            { Target = vmName };
        }

        return candidate;
    }
}
