using System.Text;
using Castra.Native;
using Castra.State;

namespace Castra.Hooks;

/// <summary>The last lines of a log, for failure messages: enough to see why, short enough for one event.</summary>
internal static class LogTail
{
    /// <summary>Null when the log is missing, empty, unsafe or unreadable; reads at most the last 8 kB.</summary>
    public static string? Read(StateDirectory directory, string name, int lines = 5, int maxChars = 500)
    {
        try
        {
            using var handle = directory.OpenForReading(name, requireTrustedOwner: true, out var stat);
            if (handle is null)
            {
                return null;
            }

            var start = Math.Max(0, stat.Size - 8192);
            var buffer = new byte[stat.Size - start];
            var read = Libc.ReadFull((int)handle.DangerousGetHandle(), buffer, start);
            if (read <= 0)
            {
                return null;
            }

            var text = Encoding.UTF8.GetString(buffer, 0, read);
            var tail = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).TakeLast(lines).ToList();
            if (tail.Count == 0)
            {
                return null;
            }

            var joined = string.Join(" | ", tail);
            return joined.Length <= maxChars ? joined : "…" + joined[^maxChars..];
        }
        catch (IOException)
        {
            return null;
        }
    }
}
