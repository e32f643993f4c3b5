namespace Castra.Shutdown;

/// <summary>One VM to stop with <see cref="ShutdownEngine.StartEach"/>: where its events go and what cancels it.</summary>
public sealed record VmRun(string VmName, IShutdownObserver Observer, CancellationToken CancellationToken);
