namespace Castra.Processes;

/// <summary>How a child ended, from waitpid(2): an exit code, or the signal that killed it.</summary>
internal readonly record struct ChildExit(int? ExitCode, int? Signal)
{
    public static ChildExit FromWaitStatus(int status) =>
        (status & 0x7f) == 0 ? new ChildExit((status >> 8) & 0xff, null) : new ChildExit(null, status & 0x7f);

    /// <summary>Shell convention: 128 + signal for a child killed by a signal.</summary>
    public int Code => ExitCode ?? 128 + (Signal ?? 0);

    public override string ToString() => ExitCode is { } code ? $"exit code {code}" : $"killed by signal {Signal}";
}
