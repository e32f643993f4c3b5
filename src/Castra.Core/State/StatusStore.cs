using System.Text.Json;
using Castra.Serialization;

namespace Castra.State;

/// <summary>Reads and writes <c>shutdown.json</c>.</summary>
internal static class StatusStore
{
    public static void Write(VmPaths vm, StatusDocument document) =>
        AtomicFile.WriteAllText(vm.Status, JsonSerializer.Serialize(document, CastraIndentedJsonContext.Default.StatusDocument));

    /// <summary>Null when the VM has never been shut down by Castra.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a status document.</exception>
    public static StatusDocument? TryRead(VmPaths vm)
    {
        string text;
        try
        {
            text = File.ReadAllText(vm.Status);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(text, CastraJsonContext.Default.StatusDocument)
                ?? throw new InvalidDataException($"{vm.Status} is empty");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{vm.Status} is not a Castra status document: {ex.Message}", ex);
        }
    }
}
