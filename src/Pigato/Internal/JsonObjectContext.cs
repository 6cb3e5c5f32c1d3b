using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Pigato.Internal;

/// <summary>Source-generated serialization of the JSON objects the library writes itself (reply options).</summary>
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class JsonObjectContext : JsonSerializerContext;
