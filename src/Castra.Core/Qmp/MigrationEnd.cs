namespace Castra.Qmp;

/// <summary>How a migration (a save to the image, or a resume from it) ended, as QEMU's query-migrate says.</summary>
internal readonly record struct MigrationEnd(bool Completed, bool TimedOut, string? Detail);
