namespace Castra.Hooks;

/// <summary>The last lines of a log, for failure messages: enough to see why, short enough for one event.</summary>
internal static class LogTail
{
    public static string? Read(string path, int lines = 5, int maxChars = 500)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var start = Math.Max(0, stream.Length - 8192);
            stream.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            var text = reader.ReadToEnd();
            var tail = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).TakeLast(lines).ToList();
            if (tail.Count == 0)
            {
                return null;
            }

            var joined = string.Join(" | ", tail);
            return joined.Length <= maxChars ? joined : "…" + joined[^maxChars..];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
