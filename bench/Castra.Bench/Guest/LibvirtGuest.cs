using System.Diagnostics;
using System.Globalization;
using System.Security;

namespace Castra.Bench.Guest;

/// <summary>
/// The same guest (kernel, initramfs, 128 MiB, TCG, ACPI) as a transient libvirt domain (`virsh create`), with the
/// observer QMP monitor added through &lt;qemu:commandline&gt;. The kernel and initramfs are copied into the domain's
/// own directory: libvirt relabels (chowns) what a domain uses, and must not touch the repository's files.
/// </summary>
internal sealed class LibvirtGuest : GuestTarget
{
    public const string Connection = "qemu:///system";

    public required string Directory { get; init; }

    public static async Task<LibvirtGuest> BootAsync(GuestEnvironment environment, CancellationToken cancellationToken)
    {
        var name = "castra-bench-" + Guid.NewGuid().ToString("N")[..8];
        var dir = Path.Combine(Path.GetTempPath(), name);
        System.IO.Directory.CreateDirectory(dir);
        if (!OperatingSystem.IsWindows())
        {
            // rwxrwxrwx: QEMU runs as libvirt-qemu and creates the observer socket here.
            File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        }
        foreach (var file in new[] { "vmlinux", "initramfs.cpio" })
        {
            File.Copy(Path.Combine(environment.Build.GuestDirectory, file), Path.Combine(dir, file));
        }

        var serial = Path.Combine(dir, "serial.log");
        var observer = Path.Combine(dir, "observer.sock");
        var xml = Path.Combine(dir, "domain.xml");
        await File.WriteAllTextAsync(xml, $"""
            <domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
              <name>{name}</name>
              <memory unit='MiB'>128</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64' machine='pc'>hvm</type><kernel>{X(dir)}/vmlinux</kernel><initrd>{X(dir)}/initramfs.cpio</initrd><cmdline>console=ttyS0 quiet castra.mode=acpi</cmdline></os>
              <features><acpi/></features>
              <on_poweroff>destroy</on_poweroff>
              <devices>
                <serial type='file'><source path='{X(serial)}'/><target port='0'/></serial>
                <memballoon model='none'/>
              </devices>
              <qemu:commandline><qemu:arg value='-qmp'/><qemu:arg value='unix:{X(observer)},server=on,wait=off'/></qemu:commandline>
            </domain>
            """, cancellationToken);
        var (_, _, exit, _, stderr) = await ToolProcess.RunAsync("virsh", ["-c", Connection, "create", xml], cancellationToken);
        if (exit != 0)
        {
            System.IO.Directory.Delete(dir, recursive: true);
            throw new InvalidOperationException($"virsh create failed: {stderr.Trim()}");
        }

        try
        {
            await WaitReadyAsync(serial, TimeSpan.FromSeconds(90), cancellationToken);
            var pid = int.Parse(File.ReadAllText($"/run/libvirt/qemu/{name}.pid").Trim(), CultureInfo.InvariantCulture);
            var watch = await PowerOffWatch.StartAsync(pid, observer, cancellationToken);
            return new LibvirtGuest { Name = name, Directory = dir, QemuPid = pid, SerialLog = serial, Watch = watch };
        }
        catch
        {
            Destroy(name);
            System.IO.Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    public override void Dispose()
    {
        Watch.Dispose();
        Destroy(Name);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"castra-bench: could not remove {Directory}: {ex.Message}");
        }
    }

    /// <summary>`virsh destroy` (hard stop) of a domain still running; an error when it is already gone is expected.</summary>
    private static void Destroy(string name)
    {
        using var destroy = Process.Start(new ProcessStartInfo("virsh", ["-c", Connection, "destroy", name])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        });
        destroy?.WaitForExit(TimeSpan.FromSeconds(30));
    }

    private static string X(string text) => SecurityElement.Escape(text);
}
