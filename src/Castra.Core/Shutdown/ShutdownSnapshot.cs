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

    public static string PathFor(VmPaths vm, string shutdownId) => Path.Combine(vm.Directory, $"shutdown-{shutdownId}.snapshot.json");

    public static string Write(VmPaths vm, StatusDocument status, IReadOnlyList<ShutdownEvent> events, IReadOnlyList<HookResult> hooks)
    {
        var path = PathFor(vm, status.ShutdownId);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("VmName", vm.Name);
            json.WriteString("ShutdownId", status.ShutdownId);
            json.WriteString("WrittenAt", DateTimeOffset.UtcNow);
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
                json.WriteString("LogTail", LogTail.Read(h.LogPath, lines: 20, maxChars: 4000));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WritePropertyName("Sessions");
            json.WriteStartArray();
            foreach (var session in Sessions.SessionStore.ReadAll(vm))
            {
                JsonSerializer.Serialize(json, session, CastraJsonContext.Default.VmSession);
            }

            json.WriteEndArray();
            json.WritePropertyName("SerialLogTail");
            json.WriteStartArray();
            foreach (var line in SerialTail(vm))
            {
                json.WriteStringValue(line);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        AtomicFile.WriteAllText(path, Encoding.UTF8.GetString(buffer.ToArray()));
        return path;
    }

    private static List<string> SerialTail(VmPaths vm)
    {
        var serial = Path.Combine(vm.Directory, "serial.log");
        try
        {
            using var stream = new FileStream(serial, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Max(0, stream.Length - 65536), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Split('\n').Select(l => l.TrimEnd('\r')).TakeLast(SerialTailLines).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
