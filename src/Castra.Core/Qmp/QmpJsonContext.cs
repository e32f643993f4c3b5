using System.Text.Json.Serialization;

namespace Castra.Qmp;

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class QmpJsonContext : JsonSerializerContext
{
}
