namespace Castra.Processes;

/// <summary>
/// Whether a program is a QEMU system emulator, by the name of the file the kernel says the process executes
/// (/proc/PID/exe, which the process cannot change, unlike its comm or argv[0]): <c>qemu-system-&lt;target&gt;</c>
/// (every upstream build and distro package) or <c>qemu-kvm</c> (RHEL, CentOS, Fedora's KVM-only build).
/// It does not prove which VM the QEMU runs; that takes a tie to the VM's files (<see cref="ProcessIdentity"/>).
/// What it rules out are the processes an attacker can point a pidfile at but cannot rename: tail, socat, sshd,
/// a shell, a daemon owned by root.
/// </summary>
internal static class QemuExecutable
{
    private const string SystemPrefix = "qemu-system-";

    /// <summary>The names accepted, for messages.</summary>
    public const string Rule = "qemu-system-* or qemu-kvm";

    public static bool IsQemu(string? executable)
    {
        if (string.IsNullOrEmpty(executable))
        {
            return false;
        }

        var name = Path.GetFileName(ProcFiles.StripDeleted(executable)!);
        return (name.StartsWith(SystemPrefix, StringComparison.Ordinal) && name.Length > SystemPrefix.Length)
            || string.Equals(name, "qemu-kvm", StringComparison.Ordinal);
    }
}
