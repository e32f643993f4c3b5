using System.Globalization;

namespace Castra.Processes;

/// <summary>What /proc says about a process: its state letter, start time, name, process group and kernel flags.</summary>
internal sealed record ProcStat(int Pid, char State, ulong StartTime, string Comm, int ProcessGroup = 0, int Session = 0, uint Flags = 0)
{
    /// <summary>PF_EXITING (include/linux/sched.h): set as the process enters do_exit(), before it drops its memory.</summary>
    private const uint PfExiting = 0x4;

    /// <summary>Exited but not yet reaped (Z) or being reaped (X): the process is gone, whatever kill(pid,0) says.</summary>
    public bool IsDead => State is 'Z' or 'X';

    /// <summary>
    /// Inside its exit, not yet a zombie: it never runs its own code again, and once its memory is gone its executable
    /// and command line read as nothing, so no proof of identity can hold for it. It is gone moments later.
    /// </summary>
    public bool IsExiting => (Flags & PfExiting) != 0;

    /// <summary>Null when there is no such process.</summary>
    public static ProcStat? TryRead(int pid)
    {
        // stat is short (comm is at most 16 bytes), but bounded all the same.
        var raw = ProcFiles.ReadBounded(ProcFiles.PathOf(pid, "stat"), 4096);
        return raw is null ? null : Parse(pid, System.Text.Encoding.UTF8.GetString(raw));
    }

    /// <summary>comm may contain spaces and parentheses, so fields are counted from the last ')'.</summary>
    internal static ProcStat? Parse(int pid, string text)
    {
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = text.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return null;
        }

        var comm = text[(open + 1)..close];
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
        // fields[2] is field 5 (pgrp), fields[3] field 6 (session), fields[6] field 9 (flags).
        if (fields.Length < 20 || fields[0].Length != 1
            || !ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !int.TryParse(fields[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pgrp)
            || !int.TryParse(fields[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var session))
        {
            return null;
        }

        _ = uint.TryParse(fields[6], NumberStyles.None, CultureInfo.InvariantCulture, out var flags);
        return new ProcStat(pid, fields[0][0], start, comm, pgrp, session, flags);
    }

    public static string? TryReadCwd(int pid)
    {
        try
        {
            return new DirectoryInfo($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cwd").LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
