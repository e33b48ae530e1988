using System.Text.Json;
using System.Text.RegularExpressions;

namespace OrderStream.UnitTests;

/// <summary>
/// A JSON Schema check for the keywords docs/events/*.schema.json use (type, const, enum, required,
/// properties, items, $ref to $defs, min/max length, minimum, exclusiveMinimum, minItems, pattern,
/// format uuid/date-time). The NuGet mirror here has no JSON Schema validator package
/// (JsonSchema.Net and NJsonSchema miss dependencies), so this small one stands in; an unknown keyword
/// fails the check rather than being ignored.
/// </summary>
public static class SchemaCheck
{
    private static readonly HashSet<string> Known =
    [
        "$schema", "$id", "title", "description", "examples", "$defs", "additionalProperties",
        "type", "const", "enum", "required", "properties", "items", "$ref", "minLength", "maxLength",
        "minimum", "exclusiveMinimum", "minItems", "maxItems", "pattern", "format",
    ];

    public static List<string> Validate(JsonElement schema, JsonElement value) => Validate(schema, schema, value, "$");

    private static List<string> Validate(JsonElement root, JsonElement schema, JsonElement value, string path)
    {
        var errors = new List<string>();
        void Fail(string message) => errors.Add($"{path}: {message}");
        foreach (var keyword in schema.EnumerateObject())
        {
            var k = keyword.Value;
            switch (keyword.Name)
            {
                case "$ref":
                    var target = root;
                    foreach (var part in k.GetString()!.TrimStart('#', '/').Split('/')) target = target.GetProperty(part);
                    errors.AddRange(Validate(root, target, value, path));
                    break;
                case "type":
                    var types = k.ValueKind == JsonValueKind.Array ? k.EnumerateArray().Select(t => t.GetString()!).ToList() : [k.GetString()!];
                    if (!types.Any(t => IsType(value, t))) Fail($"is {value.ValueKind}, expected {string.Join("|", types)}");
                    break;
                case "const":
                    if (!JsonElement.DeepEquals(k, value)) Fail($"is {value}, expected {k}");
                    break;
                case "enum":
                    if (!k.EnumerateArray().Any(e => JsonElement.DeepEquals(e, value))) Fail($"{value} is not one of {k}");
                    break;
                case "required" when value.ValueKind == JsonValueKind.Object:
                    foreach (var name in k.EnumerateArray().Select(n => n.GetString()!))
                        if (!value.TryGetProperty(name, out _)) Fail($"misses required '{name}'");
                    break;
                case "properties" when value.ValueKind == JsonValueKind.Object:
                    foreach (var p in k.EnumerateObject())
                        if (value.TryGetProperty(p.Name, out var v)) errors.AddRange(Validate(root, p.Value, v, $"{path}.{p.Name}"));
                    break;
                case "items" when value.ValueKind == JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in value.EnumerateArray()) errors.AddRange(Validate(root, k, item, $"{path}[{i++}]"));
                    break;
                case "minItems" when value.ValueKind == JsonValueKind.Array:
                    if (value.GetArrayLength() < k.GetInt32()) Fail($"has fewer than {k} items");
                    break;
                case "maxItems" when value.ValueKind == JsonValueKind.Array:
                    if (value.GetArrayLength() > k.GetInt32()) Fail($"has more than {k} items");
                    break;
                case "minLength" when value.ValueKind == JsonValueKind.String:
                    if (value.GetString()!.Length < k.GetInt32()) Fail($"is shorter than {k}");
                    break;
                case "maxLength" when value.ValueKind == JsonValueKind.String:
                    if (value.GetString()!.Length > k.GetInt32()) Fail($"is longer than {k}");
                    break;
                case "pattern" when value.ValueKind == JsonValueKind.String:
                    if (!Regex.IsMatch(value.GetString()!, k.GetString()!)) Fail($"does not match {k}");
                    break;
                case "minimum" when value.ValueKind == JsonValueKind.Number:
                    if (value.GetDecimal() < k.GetDecimal()) Fail($"is below {k}");
                    break;
                case "exclusiveMinimum" when value.ValueKind == JsonValueKind.Number:
                    if (value.GetDecimal() <= k.GetDecimal()) Fail($"is not above {k}");
                    break;
                case "format" when value.ValueKind == JsonValueKind.String:
                    var text = value.GetString()!;
                    var ok = k.GetString() switch
                    {
                        "uuid" => Guid.TryParseExact(text, "D", out _),
                        "date-time" => DateTimeOffset.TryParse(text, out _) && text.Contains('T'),
                        var f => throw new NotSupportedException($"format {f}"),
                    };
                    if (!ok) Fail($"'{text}' is not a {k}");
                    break;
                default:
                    if (!Known.Contains(keyword.Name)) throw new NotSupportedException($"Schema keyword '{keyword.Name}' is not checked by SchemaCheck");
                    break;
            }
        }
        return errors;
    }

    private static bool IsType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => throw new NotSupportedException($"type {type}"),
    };
}
