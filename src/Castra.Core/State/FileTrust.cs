using System.Globalization;
using Castra.Native;

namespace Castra.State;

/// <summary>
/// Whose files Castra believes (docs/state-layout.md, "Trust model"): root's and the calling user's. Anything else
/// under the state root may be read as untrusted input (a bring-your-own QEMU's pidfile) but never proves identity,
/// never names a command to run and is never written to.
/// </summary>
internal static class FileTrust
{
    private static readonly uint Caller = OperatingSystem.IsWindows() ? 0 : Libc.geteuid();

    public static uint CallerUid => Caller;

    public static bool IsTrusted(uint uid) => uid == 0 || uid == Caller;

    /// <summary>"is owned by uid 1000, not by root or the calling user (uid 0)".</summary>
    public static string Untrusted(uint uid) =>
        string.Create(CultureInfo.InvariantCulture, $"is owned by uid {uid}, not by root or the user running Castra (uid {Caller}): refused (docs/state-layout.md, trust model)");
}
