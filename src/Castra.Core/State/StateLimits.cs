namespace Castra.State;

/// <summary>
/// The most Castra reads from each state file: every file under the state root may be damaged or hostile (a FIFO,
/// /dev/zero behind a link, a gigabyte of junk), so no read is unbounded. Generous next to what Castra writes.
/// </summary>
internal static class StateLimits
{
    /// <summary>qemu.pid: a number and a newline.</summary>
    public const int PidFileBytes = 256;

    /// <summary>vm.json: a few hundred bytes written by castra up, plus what a user adds.</summary>
    public const int DefinitionBytes = 1 << 20;

    /// <summary>shutdown.json: ~1.5 kB.</summary>
    public const int StatusBytes = 1 << 20;

    /// <summary>hooks.json: ~400 bytes a hook.</summary>
    public const int HooksBytes = 4 << 20;

    /// <summary>One session record: ~500 bytes.</summary>
    public const int SessionRecordBytes = 256 << 10;

    /// <summary>One journal line (an event with a hook's output tail is ~1 kB); longer ones are skipped as damaged.</summary>
    public const int JournalLineBytes = 64 << 10;

    /// <summary>What a follower reads from the journal at a time.</summary>
    public const int JournalChunkBytes = 1 << 20;

    /// <summary>The tail of a log read for a message or a snapshot.</summary>
    public const int LogTailBytes = 64 << 10;
}
