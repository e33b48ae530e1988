using System.Text.Json;

namespace OrderStream.ApiGateway.Validation;

/// <summary>A POST /orders/{id}/cancel body that passed validation; both fields are optional.</summary>
public sealed record ValidCancel(string? Reason, string? UserId);

/// <summary>
/// Validates the optional body of POST /orders/{id}/cancel: <c>{ "reason": "...", "userId": "..." }</c>.
/// A reason is free text the order view shows; a userId, when given, must be the order's user.
/// </summary>
public static class CancelRequest
{
    public const int MaxReasonLength = 200;
    public const int MaxUserIdLength = 64;

    /// <summary>An absent body is a cancel without a reason.</summary>
    public static (ValidCancel? Cancel, Dictionary<string, string[]> Errors) Validate(JsonElement? body)
    {
        var errors = new Dictionary<string, string[]>();
        if (body is not { } json) return (new ValidCancel(null, null), errors);
        if (json.ValueKind != JsonValueKind.Object)
        {
            errors["body"] = ["must be a JSON object"];
            return (null, errors);
        }
        var reason = Optional(json, "reason", MaxReasonLength, errors);
        var userId = Optional(json, "userId", MaxUserIdLength, errors);
        return errors.Count > 0 ? (null, errors) : (new ValidCancel(reason, userId), errors);
    }

    private static string? Optional(JsonElement obj, string name, int maxLength, Dictionary<string, string[]> errors)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (JsonText.String(v)?.Trim() is { Length: > 0 } s && s.Length <= maxLength && !s.Any(char.IsControl))
            return s;
        errors[name] = [$"must be a string of 1-{maxLength} printable characters, or absent"];
        return null;
    }
}
