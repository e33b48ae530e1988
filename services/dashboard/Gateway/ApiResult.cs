using System.Net;
using System.Text.Json;

namespace OrderStream.Dashboard.Gateway;

/// <summary>
/// A gateway answer: the value on success, else the problem (RFC 9457) it sent, summed up in one line a
/// page can show next to the button that caused it.
/// </summary>
public sealed record ApiResult<T>(HttpStatusCode Status, T? Value, string? Problem)
{
    public bool Ok => Problem is null;
}

public static class ProblemText
{
    /// <summary>"400 The order is invalid: items[0].qty must be an integer from 1 to 10000" from a problem+json body (or the raw body).</summary>
    public static string From(HttpStatusCode status, string body)
    {
        var code = (int)status;
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return $"{code} {Trim(body)}";
            var parts = new List<string>();
            if (root.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String) parts.Add(title.GetString()!);
            if (root.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String) parts.Add(detail.GetString()!);
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                parts.AddRange(errors.EnumerateObject().Select(e =>
                    $"{e.Name} {string.Join("; ", e.Value.ValueKind == JsonValueKind.Array ? e.Value.EnumerateArray().Select(v => v.ToString()) : [e.Value.ToString()])}"));
            return parts.Count == 0 ? $"{code} {Trim(body)}" : $"{code} {string.Join(": ", parts)}";
        }
        catch (JsonException)
        {
            return body.Length == 0 ? $"{code} {status}" : $"{code} {Trim(body)}";
        }
    }

    private static string Trim(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
