using System.Globalization;

namespace Castra.PowerShell.Tests.Support.Ssh;

/// <summary>
/// A daemon's descendants from /proc, ended leaves first: this machine's PID 1 does not reap, so a process whose
/// parent died first would stay a zombie. Killing a leaf lets its own parent (still alive) reap it.
/// </summary>
internal static class ProcessTree
{
    /// <summary>SIGKILLs every descendant of <paramref name="root"/>, deepest first, waiting for each to be reaped.</summary>
    public static void KillDescendants(int root)
    {
        for (var round = 0; round < 10; round++)
        {
            var descendants = Descendants(root);
            if (descendants.Count == 0)
            {
                return;
            }

            // Leaves first: those with no child of their own among the descendants.
            var parents = descendants.Select(d => d.Parent).ToHashSet();
            foreach (var leaf in descendants.Where(d => !parents.Contains(d.Pid)))
            {
                Kill(leaf.Pid);
                try
                {
                    Poll.Until(() => !Exists(leaf.Pid), $"process {leaf.Pid} to be reaped by its parent", 5);
                }
                catch (TimeoutException)
                {
                    // Its parent is busy or gone; the next round kills what is left.
                }
            }
        }
    }

    /// <summary>The pids of <paramref name="root"/>'s descendants, with their parents.</summary>
    public static IReadOnlyList<(int Pid, int Parent)> Descendants(int root)
    {
        var all = new List<(int Pid, int Parent)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && ParentOf(pid) is { } parent)
            {
                all.Add((pid, parent));
            }
        }

        var found = new List<(int Pid, int Parent)>();
        var frontier = new HashSet<int> { root };
        while (frontier.Count > 0)
        {
            var next = all.Where(p => frontier.Contains(p.Parent)).ToList();
            found.AddRange(next);
            frontier = next.Select(p => p.Pid).ToHashSet();
        }

        return found;
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            var fields = stat[(close + 2)..].Split(' ');
            return fields[0] is "Z" or "X" ? null : int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool Exists(int pid) => File.Exists($"/proc/{pid}/stat");

    private static void Kill(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone already.
        }
    }
}
