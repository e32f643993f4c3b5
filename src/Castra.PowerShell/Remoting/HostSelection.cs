using System.Management.Automation;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// The names a call across hosts was given, and which host each belongs to. A name typed on the command line (or
/// piped as a string) is for every host; a VM object that came back from a host (Get-CastraVm -Session, Invoke-Command)
/// names its host in PSComputerName, and is that host's only, taken literally. Without it, piping
/// <c>Get-CastraVm -Session $s | Stop-CastraVm -Session $s</c> would ask every host for every host's VMs.
/// </summary>
internal sealed class HostSelection
{
    private readonly List<string> _everyHost = [];
    private readonly Dictionary<string, List<string>> _byHost = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="computerName">The PSComputerName of the piped object the names came from; null for plain names.</param>
    public void Add(IEnumerable<string> names, string? computerName)
    {
        if (computerName is null)
        {
            _everyHost.AddRange(names);
            return;
        }

        if (!_byHost.TryGetValue(computerName, out var list))
        {
            list = [];
            _byHost[computerName] = list;
        }

        list.AddRange(names.Select(WildcardPattern.Escape));
    }

    /// <summary>The names one host gets; empty when it has nothing to do in this call.</summary>
    public IReadOnlyList<string> NamesFor(string host) =>
        [.. _everyHost.Concat(_byHost.TryGetValue(host, out var mine) ? mine : []).Distinct(StringComparer.Ordinal)];

    /// <summary>Hosts that VM objects came from but that no given session reaches.</summary>
    public IEnumerable<(string Host, IReadOnlyList<string> Names)> Unreached(IEnumerable<string> sessionHosts)
    {
        var reached = sessionHosts.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return _byHost.Where(h => !reached.Contains(h.Key)).Select(h => (h.Key, (IReadOnlyList<string>)h.Value));
    }

    /// <summary>
    /// A PSComputerName that means this machine: none, or what Start-Job and local remoting give back ("localhost",
    /// this machine's name). Objects from anywhere else name VMs of another host.
    /// </summary>
    public static bool IsLocal(string? computerName) =>
        string.IsNullOrEmpty(computerName)
        || string.Equals(computerName, "localhost", StringComparison.OrdinalIgnoreCase)
        || string.Equals(computerName, Environment.MachineName, StringComparison.OrdinalIgnoreCase);
}
