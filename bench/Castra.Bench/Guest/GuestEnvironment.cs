namespace Castra.Bench.Guest;

/// <summary>What every guest driver needs: the shipped artifacts, the C helpers, and a directory for throwaway roots.</summary>
internal sealed record GuestEnvironment(CastraBuild Build, NativeTools Tools, string WorkDirectory);
