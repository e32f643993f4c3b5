using System.Text;
using System.Text.Json;
using Castra.Events;
using Castra.Hooks;
using Castra.Serialization;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// The -SaveState debug snapshot: the final status document, this shutdown's events (ShutdownComplete last), the
/// hook results, the VM's sessions and the tail of its serial log, in one JSON file in the VM's directory
/// (<c>shutdown-&lt;ShutdownId&gt;.snapshot.json</c>), written just before ShutdownComplete is emitted.
/// </summary>
internal static class ShutdownSnapshot
{
    public const int SerialTailLines = 100;

    public static string NameFor(string shutdownId) => $"shutdown-{shutdownId}.snapshot.json";

    public static string PathFor(VmPaths vm, string shutdownId) => Path.Combine(vm.Directory, NameFor(shutdownId));

    public static string Write(VmDirectory dir, StatusDocument status, IReadOnlyList<ShutdownEvent> events, IReadOnlyList<HookResult> hooks)
    {
        var vm = dir.Paths;
        var path = PathFor(vm, status.ShutdownId);
        using var logs = hooks.Count == 0 ? null : dir.OpenHooks();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("VmName", vm.Name);
            json.WriteString("ShutdownId", status.ShutdownId);
            json.WriteString("WrittenAt", DateTime.UtcNow);
            json.WritePropertyName("Status");
            JsonSerializer.Serialize(json, status, CastraJsonContext.Default.StatusDocument);
            json.WritePropertyName("Events");
            json.WriteStartArray();
            foreach (var evt in events)
            {
                json.WriteRawValue(EventJson.Serialize(evt));
            }

            json.WriteEndArray();
            json.WritePropertyName("Hooks");
            json.WriteStartArray();
            foreach (var h in hooks)
            {
                json.WriteStartObject();
                json.WriteString("Name", h.Hook.Name);
                json.WriteString("Stage", h.Hook.Stage);
                json.WriteNumber("Priority", h.Hook.Priority);
                json.WriteString("Status", h.Status.ToString());
                json.WriteNumber("DurationMs", h.DurationMs);
                if (h.ExitCode is { } code)
                {
                    json.WriteNumber("ExitCode", code);
                }

                json.WriteString("Message", h.Message);
                json.WriteString("LogPath", h.LogPath);
                json.WriteString("LogTail", LogTail.Read(logs!, HookRunner.LogNameFor(h.Hook), lines: 20, maxChars: 4000));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WritePropertyName("Sessions");
            json.WriteStartArray();
            foreach (var session in Sessions.SessionStore.ReadAll(dir))
            {
                JsonSerializer.Serialize(json, session, CastraJsonContext.Default.VmSession);
            }

            json.WriteEndArray();
            json.WritePropertyName("SerialLogTail");
            json.WriteStartArray();
            foreach (var line in SerialTail(dir))
            {
                json.WriteStringValue(line);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        dir.Files.Replace(NameFor(status.ShutdownId), buffer.ToArray());
        return path;
    }

    /// <summary>QEMU's serial log (its owner's file, shown, never believed): the last lines of its last 64 kB.</summary>
    private static List<string> SerialTail(VmDirectory dir)
    {
        try
        {
            using var handle = dir.Files.OpenForReading(VmDirectory.SerialLogName, requireTrustedOwner: false, out var stat);
            if (handle is null)
            {
                return [];
            }

            var start = Math.Max(0, stat.Size - StateLimits.LogTailBytes);
            var buffer = new byte[stat.Size - start];
            var read = Native.Libc.ReadFull((int)handle.DangerousGetHandle(), buffer, start);
            return read <= 0 ? [] : Encoding.UTF8.GetString(buffer, 0, read).Split('\n').Select(l => l.TrimEnd('\r')).TakeLast(SerialTailLines).ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }
}
