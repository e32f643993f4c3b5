using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Castra.PowerShell.Tests.Support.Ssh;

/// <summary>
/// One SSH "host" on this machine: an sshd (Debian openssh-server) listening only on its own loopback address
/// (127.0.0.N, which Linux routes to lo without any set-up), whose powershell subsystem runs the repository's pwsh
/// with this host's own environment: its CASTRA_HOME (fake QEMU VMs live under it), its HOME and its PSModulePath
/// (where a copy of out/Castra is installed, removed or replaced by an older version per test). The environment is
/// set by a small wrapper script named as the subsystem, which is what an administrator would do for a pinned pwsh.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class SshHost : IDisposable
{
    private const string Sshd = "/usr/sbin/sshd";
    private readonly string _clientPublicKey;
    private readonly List<FakeVm> _vms = [];
    private Process? _daemon;

    internal SshHost(string directory, string address, string clientPublicKey)
    {
        Directory = directory;
        Address = address;
        _clientPublicKey = clientPublicKey;
        System.IO.Directory.CreateDirectory(CastraHome);
        System.IO.Directory.CreateDirectory(Path.Combine(CastraHome, "vms"));
        System.IO.Directory.CreateDirectory(ModulePath);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "home"));
        Port = FreePort(address);
        HostKey = Path.Combine(directory, "host_key");
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", $"castra-test-{address}", "-f", HostKey);
        File.WriteAllText(Path.Combine(directory, "authorized_keys"), clientPublicKey);
        WriteSubsystem();
        WriteConfig();
    }

    public string Directory { get; }

    /// <summary>The loopback address sshd listens on: what New-PSSession -HostName gets and PSComputerName shows.</summary>
    public string Address { get; }

    public int Port { get; }

    public string HostKey { get; }

    /// <summary>This host's state root (its CASTRA_HOME).</summary>
    public string CastraHome => Path.Combine(Directory, "castra");

    /// <summary>This host's PSModulePath entry: the module is installed here as Castra/&lt;version&gt;.</summary>
    public string ModulePath => Path.Combine(Directory, "modules");

    /// <summary>"[address]:port keytype key", for the client's known_hosts file.</summary>
    public string KnownHostsLine
    {
        get
        {
            var key = File.ReadAllText(HostKey + ".pub").Split(' ');
            return $"[{Address}]:{Port} {key[0]} {key[1]}";
        }
    }

    public bool IsRunning => _daemon is { HasExited: false };

    /// <summary>Starts sshd in the foreground (-D), a child of the test process that Stop reaps; returns once it accepts connections.</summary>
    public void Start()
    {
        if (IsRunning)
        {
            return;
        }

        var psi = new ProcessStartInfo(Sshd, ["-D", "-e", "-f", Path.Combine(Directory, "sshd_config")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        _daemon = Process.Start(psi) ?? throw new InvalidOperationException("could not start sshd");
        _daemon.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { lock (Log) { Log.Add(line); } } };
        _daemon.BeginErrorReadLine();
        _daemon.BeginOutputReadLine();
        try
        {
            Poll.Until(() => _daemon.HasExited || Accepts(), $"sshd on {Address}:{Port} to accept connections", 15);
            if (_daemon.HasExited)
            {
                throw new InvalidOperationException($"sshd on {Address}:{Port} exited ({_daemon.ExitCode}): {string.Join("\n", Log)}");
            }
        }
        catch
        {
            Stop();
            throw;
        }
    }

    /// <summary>sshd's own log (-e: to stderr), for failure messages.</summary>
    public List<string> Log { get; } = [];

    /// <summary>
    /// The host goes away: every session's server side (pwsh, the per-connection sshd) is killed, leaves first so each is
    /// reaped by its parent, then the listener, which this process reaps. Open sessions to it break.
    /// </summary>
    public void Stop()
    {
        if (_daemon is null)
        {
            return;
        }

        if (!_daemon.HasExited)
        {
            ProcessTree.KillDescendants(_daemon.Id);
            _daemon.Kill();
        }

        _daemon.WaitForExit();
        _daemon.Dispose();
        _daemon = null;
    }

    /// <summary>
    /// The host stops answering without going away (a hung machine, a network that drops packets): every session's
    /// server side (the per-connection sshd, pwsh) is SIGSTOPped; the connections stay open. <see cref="Thaw"/> undoes it.
    /// </summary>
    public void Freeze() => Signal("-STOP");

    /// <summary>SIGCONT to every session's server side (after <see cref="Freeze"/>).</summary>
    public void Thaw() => Signal("-CONT");

    private void Signal(string signal)
    {
        if (_daemon is { HasExited: false } daemon && ProcessTree.Descendants(daemon.Id) is { Count: > 0 } descendants)
        {
            using var kill = Process.Start("kill", [signal, .. descendants.Select(d => d.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
            kill.WaitForExit();
        }
    }

    /// <summary>Installs out/Castra as this host's module, optionally claiming another version (an older install).</summary>
    public void InstallModule(string? version = null)
    {
        RemoveModule();
        var manifest = File.ReadAllText(Path.Combine(BuiltModule.Directory, "Castra.psd1"));
        var built = ModuleVersionRegex().Match(manifest).Groups[1].Value;
        var target = Path.Combine(ModulePath, "Castra", version ?? built);
        Copy(BuiltModule.Directory, target);
        if (version is not null)
        {
            File.WriteAllText(Path.Combine(target, "Castra.psd1"), ModuleVersionRegex().Replace(manifest, $"ModuleVersion = '{version}'"));
        }
    }

    public void RemoveModule()
    {
        var installed = Path.Combine(ModulePath, "Castra");
        if (System.IO.Directory.Exists(installed))
        {
            System.IO.Directory.Delete(installed, recursive: true);
        }
    }

    /// <summary>A running fake QEMU VM under this host's CASTRA_HOME.</summary>
    public FakeVm Launch(string name, string behavior = "graceful", int? exitDelayMs = null)
    {
        var vm = FakeVm.Launch(Path.Combine(CastraHome, "vms", name), name, behavior, exitDelayMs);
        lock (_vms)
        {
            _vms.Add(vm);
        }

        return vm;
    }

    /// <summary>Kills this host's fake VMs (also those a test started through the host) and empties its state root.</summary>
    public void Reset()
    {
        lock (_vms)
        {
            _vms.ForEach(vm => vm.Kill());
            _vms.Clear();
        }

        foreach (var pidFile in System.IO.Directory.EnumerateFiles(Path.Combine(CastraHome, "vms"), "qemu.pid", SearchOption.AllDirectories))
        {
            KillFake(pidFile);
        }

        foreach (var entry in new DirectoryInfo(CastraHome).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo d)
            {
                d.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }

        System.IO.Directory.CreateDirectory(Path.Combine(CastraHome, "vms"));
    }

    public void Dispose()
    {
        Stop();
        Reset();
    }

    /// <summary>The process a pidfile names, if it is the fake QEMU (never anything else).</summary>
    private static void KillFake(string pidFile)
    {
        try
        {
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)
                && File.ResolveLinkTarget($"/proc/{pid}/exe", returnFinalTarget: false)?.FullName == FakeQemu.Path)
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            // Gone already, or not ours.
        }
    }

    private void WriteSubsystem()
    {
        var pwsh = BuiltModule.Repo(".tools/pwsh/pwsh");
        var script = Path.Combine(Directory, "pwsh-subsystem");
        File.WriteAllText(script, $"""
            #!/bin/sh
            # This host's environment for PowerShell remoting sessions, then the repository's pwsh as the SSH subsystem.
            export CASTRA_HOME='{CastraHome}' HOME='{Path.Combine(Directory, "home")}' PSModulePath='{ModulePath}'
            exec '{pwsh}' -sshs -NoLogo -NoProfile

            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private void WriteConfig()
    {
        // Only this loopback address; only the test's key; nothing read from /etc/ssh.
        File.WriteAllText(Path.Combine(Directory, "sshd_config"), $"""
            ListenAddress {Address}:{Port}
            HostKey {HostKey}
            PidFile {Path.Combine(Directory, "sshd.pid")}
            AuthorizedKeysFile {Path.Combine(Directory, "authorized_keys")}
            AllowUsers {Environment.UserName}
            StrictModes no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            UsePAM no
            X11Forwarding no
            AllowTcpForwarding no
            MaxStartups 50
            Subsystem powershell {Path.Combine(Directory, "pwsh-subsystem")}

            """);
    }

    private bool Accepts()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Parse(Address), Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort(string address)
    {
        var listener = new TcpListener(IPAddress.Parse(address), 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void Copy(string from, string to)
    {
        System.IO.Directory.CreateDirectory(to);
        foreach (var file in System.IO.Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    internal static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })
            ?? throw new InvalidOperationException($"could not start {file}");
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed ({process.ExitCode}): {errors}");
        }
    }

    [GeneratedRegex(@"ModuleVersion\s*=\s*'([^']*)'")]
    private static partial Regex ModuleVersionRegex();
}
