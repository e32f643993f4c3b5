namespace Castra.Hooks;

/// <summary>How one hook run ended.</summary>
internal sealed record HookResult(CleanupHook Hook, HookStatus Status, long DurationMs, int? ExitCode, string? Message, string LogPath);
