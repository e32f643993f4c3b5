using Castra.Native;

namespace Castra.Shutdown.Plan;

/// <summary>The signals of the escalation, in order.</summary>
internal enum ProcessSignal
{
    Term,
    Kill,
}

internal static class ProcessSignals
{
    public static int Number(this ProcessSignal signal) => signal == ProcessSignal.Term ? Libc.SIGTERM : Libc.SIGKILL;

    /// <summary>The contract's name (Escalation.Signal, the audit path).</summary>
    public static string ContractName(this ProcessSignal signal) => signal == ProcessSignal.Term ? ContractNames.SigTerm : ContractNames.SigKill;
}
