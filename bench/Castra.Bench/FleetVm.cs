using System.Globalization;
using Castra.Processes;
using Castra.State;

namespace Castra.Bench;

/// <summary>One fake VM of a fleet: its directory, its behaviour, its process, and what the fake itself recorded.</summary>
internal sealed class FleetVm
{
    public FleetVm(VmPaths paths, FakeBehavior behavior)
    {
        Paths = paths;
        Behavior = behavior;
    }

    public VmPaths Paths { get; }

    public string Name => Paths.Name;

    public FakeBehavior Behavior { get; }

    public int Pid { get; set; }

    /// <summary>/proc start time, recorded in vm.json exactly as castra up does (identity proof 2).</summary>
    public ulong StartTime { get; set; }

    /// <summary>The fake's own log: one "what CLOCK_REALTIME-ns" line per event (tests/fixtures/fake-qemu/README.md).</summary>
    public string RecordFile => Path.Combine(Paths.Directory, "fake-record.log");

    /// <summary>Alive means: this very process (same start time) exists and is not a zombie.</summary>
    public bool IsAlive => ProcStat.TryRead(Pid) is { IsDead: false } stat && stat.StartTime == StartTime;

    /// <summary>The "what" entries the fake recorded, with their times.</summary>
    public IReadOnlyList<(string What, DateTimeOffset At)> ReadRecords()
    {
        if (!File.Exists(RecordFile))
        {
            return [];
        }

        var records = new List<(string, DateTimeOffset)>();
        foreach (var line in File.ReadAllLines(RecordFile))
        {
            var space = line.LastIndexOf(' ');
            if (space > 0 && long.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ns))
            {
                // DateTimeOffset ticks are 100 ns: the fake's nanoseconds keep 0.1 µs resolution.
                records.Add((line[..space], DateTime.UnixEpoch.AddTicks(ns / 100)));
            }
        }

        return records;
    }

    /// <summary>When the fake ran exit(0), by its own CLOCK_REALTIME; null after SIGKILL (nothing is recorded then).</summary>
    public DateTimeOffset? ExitedAt => ReadRecords().Where(r => r.What == "exit").Select(r => (DateTimeOffset?)r.At).FirstOrDefault();
}
