namespace Castra.PowerShell.Tests.Support.Ssh;

/// <summary>
/// Three SSH hosts on loopback addresses (127.0.0.2-4) for the tests of Castra across hosts, started once for the
/// collection (an sshd starts in milliseconds; what costs is each PowerShell session, ~1-2 s). The client side is a
/// key and a known_hosts file generated here: sessions check the hosts' keys strictly, as a user's would, and
/// nothing but these loopback addresses is ever contacted.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SshHosts : IDisposable
{
    public SshHosts()
    {
        if (!File.Exists("/usr/sbin/sshd"))
        {
            throw new InvalidOperationException("/usr/sbin/sshd is missing: ./build.sh setup installs openssh-server.");
        }

        // sshd's privilege separation needs it; a container without the service may not have it (only root can make it,
        // and only a root sshd needs it).
        if (!System.IO.Directory.Exists("/run/sshd") && Environment.UserName == "root")
        {
            System.IO.Directory.CreateDirectory("/run/sshd");
        }

        Directory = "/tmp/crs-" + Guid.NewGuid().ToString("N")[..8];
        System.IO.Directory.CreateDirectory(Directory);
        ClientKey = Path.Combine(Directory, "client_key");
        SshHost.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "castra-test-client", "-f", ClientKey);
        var publicKey = File.ReadAllText(ClientKey + ".pub");
        Alpha = new SshHost(Path.Combine(Directory, "alpha"), "127.0.0.2", publicKey);
        Beta = new SshHost(Path.Combine(Directory, "beta"), "127.0.0.3", publicKey);
        Gamma = new SshHost(Path.Combine(Directory, "gamma"), "127.0.0.4", publicKey);
        KnownHosts = Path.Combine(Directory, "known_hosts");
        File.WriteAllLines(KnownHosts, All.Select(h => h.KnownHostsLine));
        try
        {
            foreach (var host in All)
            {
                host.InstallModule();
                host.Start();
            }
        }
        catch
        {
            // No daemon outlives a fixture that could not start.
            Dispose();
            throw;
        }
    }

    public string Directory { get; }

    public string ClientKey { get; }

    public string KnownHosts { get; }

    public SshHost Alpha { get; }

    public SshHost Beta { get; }

    public SshHost Gamma { get; }

    public IReadOnlyList<SshHost> All => [Alpha, Beta, Gamma];

    /// <summary>
    /// PowerShell that opens one session per host into $sessions (in the hosts' order), as a user would with
    /// New-PSSession -SSHConnection; host keys are checked against the generated known_hosts file, and only the
    /// generated key is offered (not an agent's keys or a user's ssh config's), never a password prompt. In PowerShell 7.6 a
    /// connection hashtable without ConnectingTimeout times out at once ("after time out: 0 seconds"), and its Port key
    /// is ignored when Options is given (ssh then dials port 22): the port goes in Options, as ssh's own -o Port.
    /// </summary>
    public string OpenSessions(params SshHost[] hosts) =>
        "$sessions = @(New-PSSession -SSHConnection @(" + string.Join(", ", hosts.Select(h =>
            $"@{{ HostName = '{h.Address}'; UserName = '{Environment.UserName}'; KeyFilePath = '{ClientKey}'; ConnectingTimeout = 30000; " +
            $"Options = @{{ Port = '{h.Port}'; UserKnownHostsFile = '{KnownHosts}'; StrictHostKeyChecking = 'yes'; IdentitiesOnly = 'yes'; BatchMode = 'yes'; LogLevel = 'ERROR' }} }}")) +
        ") -ErrorAction Stop); $sessions = @(foreach ($h in '" + string.Join("', '", hosts.Select(h => h.Address)) +
        "') { $sessions | Where-Object ComputerName -eq $h })";

    /// <summary>Every host running, with the built module, and no VMs: what each test starts from.</summary>
    public void Reset()
    {
        foreach (var host in All)
        {
            host.Reset();
            host.InstallModule();
            host.Start();
        }
    }

    public void Dispose()
    {
        foreach (var host in All)
        {
            host.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // /tmp is cleaned anyway.
        }
    }
}

/// <summary>The tests that share the SSH hosts run one at a time (they stop hosts and swap modules).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SshHostsGroup : ICollectionFixture<SshHosts>
{
    public const string Name = "SSH hosts";
}
