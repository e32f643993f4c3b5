using System.Globalization;
using System.Text;
using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// What a pidfd refers to. Two pidfds refer to the same process when both processes are alive and have the same PID
/// number: a number belongs to one live process at a time, and a live process keeps its number.
/// </summary>
internal static class PidfdInfo
{
    /// <summary>The PID in Castra's PID namespace (fdinfo "Pid:"), or null once the process is reaped (-1) or unknown.</summary>
    public static int? TryGetPid(int pidfd)
    {
        var raw = ProcFiles.ReadBounded($"/proc/self/fdinfo/{pidfd.ToString(CultureInfo.InvariantCulture)}", 4096);
        if (raw is null)
        {
            return null;
        }

        foreach (var line in Encoding.ASCII.GetString(raw).Split('\n'))
        {
            if (line.StartsWith("Pid:", StringComparison.Ordinal))
            {
                return int.TryParse(line.AsSpan(4).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
            }
        }

        return null;
    }

    /// <summary>A pidfd polls readable once its process has exited (zombie or reaped); any error counts as exited.</summary>
    public static unsafe bool HasExited(int pidfd)
    {
        var fds = new Libc.PollFd { Fd = pidfd, Events = Libc.POLLIN };
        var n = Libc.poll(&fds, 1, 0);
        return n != 0 && (n < 0 || (fds.Revents & (Libc.POLLIN | PollErrorBits)) != 0);
    }

    /// <summary>POLLERR | POLLHUP | POLLNVAL: an unusable pidfd proves nothing alive.</summary>
    private const short PollErrorBits = 0x008 | 0x010 | 0x020;
}
