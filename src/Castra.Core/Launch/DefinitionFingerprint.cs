using System.Security.Cryptography;
using System.Text;
using Castra.State;

namespace Castra.Launch;

/// <summary>
/// What a saved image is tied to: SHA-256 over the QEMU binary and its whole command line as Castra builds it (the
/// machine, memory, devices, kernel, disk). A saved state only loads into the same machine, so a start whose command
/// line differs in any way refuses to resume it rather than boot a machine QEMU would reject or, worse, accept.
/// </summary>
public static class DefinitionFingerprint
{
    /// <summary>Lower-case hex, 64 characters.</summary>
    public static string Of(string qemu, IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var text = new StringBuilder(qemu);
        foreach (var argument in arguments)
        {
            text.Append('\0').Append(argument);
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();
    }

    /// <summary>The fingerprint of what vm.json records was launched; null when it records no launch.</summary>
    public static string? Of(LaunchRecord? launch) =>
        launch is { Qemu.Length: > 0, Arguments.Count: > 0 } ? Of(launch.Qemu, launch.Arguments) : null;
}
