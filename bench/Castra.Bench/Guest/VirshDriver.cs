using System.Diagnostics;

namespace Castra.Bench.Guest;

/// <summary>
/// libvirt, the peer users know: `virsh shutdown --mode acpi NAME` on a transient domain, finished when libvirt
/// reports the domain stopped (the lifecycle event `Stopped`, read from a `virsh event` subscribed beforehand; a
/// transient domain is gone then). Needs libvirtd running (docs/performance.md says how it was run here).
/// </summary>
internal sealed class VirshDriver : GuestDriver
{
    public override string Name => "virsh shutdown --mode acpi (until the domain is gone)";

    public override string? Unavailable(GuestEnvironment environment)
    {
        if (!File.Exists("/usr/bin/virsh"))
        {
            return "libvirt is not installed (apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-daemon-system)";
        }

        using var probe = Process.Start(new ProcessStartInfo("virsh", ["-c", LibvirtGuest.Connection, "version"]) { RedirectStandardOutput = true, RedirectStandardError = true });
        if (probe is null || !probe.WaitForExit(TimeSpan.FromSeconds(10)) || probe.ExitCode != 0)
        {
            return "libvirtd is not running or not reachable at " + LibvirtGuest.Connection + " (start it: virtlogd -d && libvirtd -d)";
        }

        return null;
    }

    public override async Task<GuestTarget> BootAsync(GuestEnvironment environment, CancellationToken cancellationToken) =>
        await LibvirtGuest.BootAsync(environment, cancellationToken);

    public override async Task<DriverRun> StopAsync(GuestEnvironment environment, GuestTarget guest, CancellationToken cancellationToken)
    {
        using var events = Process.Start(new ProcessStartInfo("virsh", ["-c", LibvirtGuest.Connection, "event", "--domain", guest.Name, "--event", "lifecycle", "--loop", "--timeout", "120"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("could not start virsh event");
        try
        {
            // virsh prints nothing once subscribed; it connects and registers within ~30 ms here: give it ten times that.
            await Task.Delay(300, cancellationToken);
            var stopped = Task.Run(async () =>
            {
                while (await events.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
                {
                    if (line.Contains(": Stopped", StringComparison.Ordinal))
                    {
                        return (DateTimeOffset?)DateTimeOffset.UtcNow;
                    }
                }

                return null;
            }, cancellationToken);

            var (started, returned, exit, _, stderr) = await ToolProcess.RunAsync("virsh", ["-c", LibvirtGuest.Connection, "shutdown", "--mode", "acpi", guest.Name], cancellationToken);
            if (exit != 0)
            {
                return new DriverRun(started, returned, false, $"virsh shutdown: exit {exit}: {stderr.Trim()}");
            }

            var gone = await stopped.WaitAsync(TimeSpan.FromSeconds(90), cancellationToken);
            return gone is { } at
                ? new DriverRun(started, at, true, null)
                : new DriverRun(started, DateTimeOffset.UtcNow, false, "virsh event ended without a Stopped event");
        }
        finally
        {
            if (!events.HasExited)
            {
                events.Kill();
            }
        }
    }
}
