using System.Diagnostics;
using System.Runtime.InteropServices;
using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// A child started by posix_spawn(3) as the leader of a new process group (hooks, sessions). The group is what gets
/// signalled, so whatever the child spawns is reached too. Output goes straight to a file: no pipe that a
/// lingering grandchild could hold open. Exit is seen through a pidfd like QEMU's; the child is reaped here, last.
/// </summary>
internal sealed class GroupLeader : IDisposable
{
    /// <summary>Between SIGTERM and SIGKILL to a group, and the bound on waiting after SIGKILL.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private readonly TrackedProcess _process;
    private ChildExit? _exit;
    private bool _reaped;

    private GroupLeader(int pid, TrackedProcess process)
    {
        Pid = pid;
        _process = process;
    }

    public int Pid { get; }

    /// <summary>The group id (the leader's PID).</summary>
    public int GroupId => Pid;

    public ulong? StartTime => _process.StartTime;

    /// <summary>Set once the leader has exited and been reaped by this process (after the group was dealt with).</summary>
    public ChildExit? Exit => _exit;

    /// <exception cref="IOException">The program could not be started (the message says why).</exception>
    public static GroupLeader Start(SpawnRequest request)
    {
        var pid = Spawn(request);
        var process = TrackedProcess.Open(pid) ?? throw new IOException($"{request.Executable} (PID {pid}) vanished right after it started");
        return new GroupLeader(pid, process);
    }

    /// <summary>
    /// True when the leader exited within <paramref name="timeout"/>. It is not reaped yet: while it is an unreaped
    /// zombie its PID, and so the group's number, cannot be given to another process, which is what makes signalling
    /// the group by number safe until <see cref="TerminateGroupAsync"/> or <see cref="KillGroupAsync"/> reaps it.
    /// </summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _process.WaitForExitAsync(timeout, cancellationToken);

    /// <summary>Live processes of the group other than an exited leader: what a finished hook left behind.</summary>
    public bool HasLiveMembers => ProcessGroup.Members(GroupId, StartTime).Count > 0;

    /// <summary>
    /// SIGTERM to the whole group, up to <see cref="Grace"/> for it to go, then SIGKILL: nothing the child spawned
    /// outlives it. Then the leader is reaped and <see cref="Exit"/> set.
    /// </summary>
    public async Task TerminateGroupAsync(CancellationToken cancellationToken)
    {
        if (HasLiveMembers)
        {
            SignalGroup(Libc.SIGTERM);
            SignalGroup(Libc.SIGCONT); // a stopped member handles SIGTERM only once continued
            if (!await ProcessGroup.WaitUntilEmptyAsync(GroupId, StartTime, Grace, cancellationToken).ConfigureAwait(false))
            {
                SignalGroup(Libc.SIGKILL);
                await ProcessGroup.WaitUntilEmptyAsync(GroupId, StartTime, Grace, cancellationToken).ConfigureAwait(false);
            }
        }

        await ReapAsync().ConfigureAwait(false);
    }

    /// <summary>Kills the group at once (cancellation, failures) and reaps the leader; never throws, bounded by the grace.</summary>
    public async Task KillGroupAsync()
    {
        SignalGroup(Libc.SIGKILL);
        await ReapAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Reaps an exited leader and returns its exit, leaving the rest of its group alone (a session's work may go on
    /// in its children); from then on this object no longer signals the group.
    /// </summary>
    public ChildExit? CollectExit()
    {
        Reap();
        return _exit;
    }

    /// <summary>By number: safe only while the leader is not reaped (see <see cref="WaitForExitAsync"/>).</summary>
    private void SignalGroup(int signal)
    {
        if (!_reaped)
        {
            _ = Libc.KillGroup(GroupId, signal);
        }
    }

    /// <summary>Waits (bounded) for the leader to exit, then reaps it, so no zombie is left in a long-lived host.</summary>
    private async Task ReapAsync()
    {
        if (!_reaped)
        {
            try
            {
                await _process.WaitForExitAsync(Grace, CancellationToken.None).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The wait itself failed; reap if the leader is already gone, else leave it.
            }
        }

        Reap();
    }

    private void Reap()
    {
        if (_reaped)
        {
            return;
        }

        var result = Libc.waitpid(Pid, out var status, Libc.WNOHANG);
        if (result == Pid)
        {
            _reaped = true;
            _exit = ChildExit.FromWaitStatus(status);
        }
        else if (result < 0 && Libc.LastError == Libc.ECHILD)
        {
            // Reaped elsewhere (a host that reaps every child): the exit status is lost, the process is gone.
            _reaped = true;
        }
    }

    public void Dispose()
    {
        Reap();
        _process.Dispose();
    }

    private static int Spawn(SpawnRequest request)
    {
        var attr = Marshal.AllocHGlobal(Libc.SpawnAttrSize);
        var actions = Marshal.AllocHGlobal(Libc.SpawnFileActionsSize);
        var signals = Marshal.AllocHGlobal(Libc.SigSetSize);
        var strings = new List<IntPtr>();
        try
        {
            Check(Libc.posix_spawnattr_init(attr), "posix_spawnattr_init");
            Check(Libc.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");

            // A new group led by the child; nothing blocked and every signal at its default, whatever the host
            // (.NET ignores SIGPIPE, PowerShell handles SIGINT) had: the child starts like one from a shell.
            Check(Libc.posix_spawnattr_setflags(attr, (short)(Libc.POSIX_SPAWN_SETPGROUP | Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF)), "setflags");
            Check(Libc.posix_spawnattr_setpgroup(attr, 0), "setpgroup");
            _ = Libc.sigemptyset(signals);
            Check(Libc.posix_spawnattr_setsigmask(attr, signals), "setsigmask");
            _ = Libc.sigfillset(signals);
            _ = Libc.sigdelset(signals, Libc.SIGKILL);
            _ = Libc.sigdelset(signals, 19); // SIGSTOP
            Check(Libc.posix_spawnattr_setsigdefault(attr, signals), "setsigdefault");

            Check(Libc.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", Libc.O_RDONLY, 0), "addopen stdin");
            // dup2 clears close-on-exec on the copy: the child gets the file the caller opened, and nothing else.
            Check(Libc.posix_spawn_file_actions_adddup2(actions, (int)request.Output.DangerousGetHandle(), 1), "dup2 stdout");
            Check(Libc.posix_spawn_file_actions_adddup2(actions, 1, 2), "dup2 stderr");
            if (request.WorkingDirectory is { } cwd)
            {
                if (!Directory.Exists(cwd))
                {
                    throw new IOException($"the working directory {cwd} does not exist");
                }

                Check(Libc.posix_spawn_file_actions_addchdir_np(actions, cwd), "addchdir");
            }

            var argv = new IntPtr[request.Arguments.Count + 2];
            argv[0] = Utf8(request.Executable, strings);
            for (var i = 0; i < request.Arguments.Count; i++)
            {
                argv[i + 1] = Utf8(request.Arguments[i], strings);
            }

            var environment = System.Environment.GetEnvironmentVariables()
                .Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
            foreach (var (key, value) in request.Environment)
            {
                environment[key] = value;
            }

            var envp = new IntPtr[environment.Count + 1];
            var index = 0;
            foreach (var (key, value) in environment)
            {
                envp[index++] = Utf8($"{key}={value}", strings);
            }

            var error = Libc.posix_spawn(out var pid, request.Executable, actions, attr, argv, envp);
            if (error != 0)
            {
                throw new IOException($"could not start {request.Executable}: {Libc.ErrorText(error)}");
            }

            return pid;
        }
        finally
        {
            _ = Libc.posix_spawn_file_actions_destroy(actions);
            _ = Libc.posix_spawnattr_destroy(attr);
            Marshal.FreeHGlobal(attr);
            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(signals);
            foreach (var s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }
        }
    }

    private static IntPtr Utf8(string value, List<IntPtr> owned)
    {
        var ptr = Marshal.StringToCoTaskMemUTF8(value);
        owned.Add(ptr);
        return ptr;
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new IOException($"{what} failed: {Libc.ErrorText(error)}");
        }
    }
}
