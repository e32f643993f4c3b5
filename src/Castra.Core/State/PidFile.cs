using System.Globalization;
using System.Text;

namespace Castra.State;

/// <summary>
/// QEMU's <c>qemu.pid</c>, read as untrusted input (a bring-your-own QEMU's owner writes it): a regular file of at
/// most <see cref="StateLimits.PidFileBytes"/>, no link followed, holding one PID above 1. It only names a candidate;
/// the process must still prove it is the VM's QEMU (Processes.ProcessIdentity).
/// </summary>
internal static class PidFile
{
    /// <summary>What the pidfile says: absent, a PID, or why it is unusable.</summary>
    public sealed record Reading(bool Exists, int? Pid, string? Problem);

    public static Reading Read(VmDirectory vm)
    {
        StateFileContent? content;
        try
        {
            content = vm.Files.ReadAll(VmDirectory.PidFileName, StateLimits.PidFileBytes, requireTrustedOwner: false);
        }
        catch (IOException ex)
        {
            return new Reading(true, null, ex.Message);
        }

        if (content is null)
        {
            return new Reading(false, null, null);
        }

        var text = Encoding.UTF8.GetString(content.Bytes).Trim();
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 1
            ? new Reading(true, pid, null)
            : new Reading(true, null, $"{vm.Paths.PidFile} does not hold a usable PID ('{Shorten(text)}')");
    }

    private static string Shorten(string text)
    {
        var printable = new string(text.Select(c => char.IsControl(c) ? '?' : c).Take(40).ToArray());
        return text.Length <= 40 ? printable : printable + "…";
    }
}
