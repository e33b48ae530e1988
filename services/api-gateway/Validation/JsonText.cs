using System.Text.Json;

namespace OrderStream.ApiGateway.Validation;

/// <summary>
/// Text from a request body. RFC 8259 JSON is UTF-8, and a body that is not is refused whole; but an
/// escaped lone surrogate (<c>"\ud800"</c>) is well-formed JSON that no string can hold, and
/// <see cref="JsonElement.GetString"/> throws on it, so a field with one is reported like any other bad value.
/// </summary>
public static class JsonText
{
    public static bool IsUtf8(ReadOnlySpan<byte> body) => System.Text.Unicode.Utf8.IsValid(body);

    /// <summary>The string a JSON value holds, or null when it is not a string or not text.</summary>
    public static string? String(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String) return null;
        try { return value.GetString(); }
        catch (InvalidOperationException) { return null; }
    }
}
