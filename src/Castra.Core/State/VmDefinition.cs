using System.Text.Json;
using System.Text.Json.Serialization;

namespace Castra.State;

/// <summary>
/// <c>vm.json</c>: optional, user-editable. Timeouts here override Castra's defaults for this VM (an explicit
/// call option overrides them in turn). The recorded start time lets Castra prove a PID is this VM's QEMU even
/// when its command line does not name the VM's files. Unknown fields are kept when Castra rewrites the file.
/// </summary>
public sealed class VmDefinition
{
    public string? Name { get; set; }

    public double? CooperativeTimeoutSeconds { get; set; }

    public double? TermTimeoutSeconds { get; set; }

    public double? KillTimeoutSeconds { get; set; }

    /// <summary>
    /// This VM's shutdown order (0 to 1000; absent: 0). A call that stops several VMs stops them group by group,
    /// lowest order first (see <see cref="Shutdown.ShutdownOrder"/>).
    /// </summary>
    public int? ShutdownOrder { get; set; }

    /// <summary>What follows a cooperative step that did not stop this VM: "Signals" or "Save" (a call's own option wins).</summary>
    public string? Escalation { get; set; }

    /// <summary>This VM's save timeout (the Save escalation), seconds.</summary>
    public double? SaveTimeoutSeconds { get; set; }

    /// <summary>Field 22 of /proc/&lt;pid&gt;/stat (clock ticks since boot) of the VM's QEMU when it was started.</summary>
    public ulong? ProcessStartTime { get; set; }

    /// <summary>/proc/sys/kernel/random/boot_id when <see cref="ProcessStartTime"/> was recorded (start times restart at boot).</summary>
    public string? BootId { get; set; }

    /// <summary>When the overlay must be deleted after the VM stops (castra up --ephemeral).</summary>
    public string? EphemeralOverlay { get; set; }

    /// <summary>How the VM was launched by Castra (informational; absent for bring-your-own QEMU).</summary>
    public LaunchRecord? Launch { get; set; }

    /// <summary>
    /// Read from a file owned by root or the caller (set when read, never stored). Only then may the recorded start
    /// time prove identity and the overlay be deleted: anyone who owns the VM's directory can write a vm.json.
    /// </summary>
    [JsonIgnore]
    public bool OwnerTrusted { get; internal set; }

    /// <summary>The escalation a vm.json names (case-insensitive); null when it names none.</summary>
    /// <exception cref="JsonException">It names something else.</exception>
    public static Shutdown.ShutdownEscalation? ParseEscalation(string? value) =>
        value is null ? null
        : Enum.TryParse<Shutdown.ShutdownEscalation>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !value.Any(char.IsAsciiDigit) ? parsed
        : throw new JsonException($"Escalation must be Signals or Save, not '{value}'");

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}
