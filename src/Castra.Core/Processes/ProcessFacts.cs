namespace Castra.Processes;

/// <summary>
/// What /proc says about one pinned process: its stat, the program it executes and its arguments. Only meaningful
/// if the pin (<see cref="TrackedProcess.HasExited"/>) still holds after they were read: then they were read from that
/// process and not from a successor that got its PID.
/// </summary>
internal sealed record ProcessFacts(int Pid, ProcStat Stat, string? Executable, IReadOnlyList<string> CommandLine)
{
    public bool IsQemu => QemuExecutable.IsQemu(Executable);

    /// <summary>"PID 42 (/usr/bin/tail)" — the executable is what identifies a process to a reader, comm as a fallback.</summary>
    public string Label => Executable is { } exe ? $"PID {Pid} ({exe})" : $"PID {Pid} ({Stat.Comm}, executable unreadable)";

    /// <summary>Null when there is no such process or it is a zombie.</summary>
    public static ProcessFacts? Read(int pid)
    {
        var stat = ProcStat.TryRead(pid);
        if (stat is null || stat.IsDead)
        {
            return null;
        }

        return new ProcessFacts(pid, stat, ProcFiles.Executable(pid), ProcFiles.CommandLine(pid));
    }
}
