using System.Security.Cryptography;
using System.Text.Json;
using OrderStream.Contracts;

namespace OrderStream.ApiGateway.Validation;

/// <summary>A POST /orders body that passed validation. <see cref="Amount"/> is always the sum of the lines.</summary>
public sealed record ValidOrder(string UserId, IReadOnlyList<OrderLine> Items, string Currency, decimal Amount)
{
    /// <summary>
    /// A fingerprint of the order's meaning (not its bytes), to tell an idempotent replay from a different request under
    /// the same key. A quoted price means nothing (inventory prices the order), so a retry that quotes another is a replay.
    /// </summary>
    public byte[] Hash() => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(
        new { UserId, Currency, Items = Items.Select(i => new { i.Sku, i.Qty }) }, EventJson.Options));
}

/// <summary>
/// Validates the raw JSON of POST /orders field by field, so every problem is reported by name
/// (<c>items[2].qty</c>) instead of failing on the first type mismatch.
/// </summary>
public static class OrderRequest
{
    public const int MaxItems = 100;
    public const int MaxQty = 10_000;
    public const decimal MaxPrice = 1_000_000m;

    /// <param name="body">The request's JSON.</param>
    /// <param name="defaultUserId">The user of a body without <c>userId</c> (the token's subject); null: userId is required.</param>
    public static (ValidOrder? Order, Dictionary<string, string[]> Errors) Validate(JsonElement body, string? defaultUserId = null)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];

        if (body.ValueKind != JsonValueKind.Object)
        {
            Fail("body", "must be a JSON object");
            return (null, errors);
        }

        var userId = defaultUserId is not null && !body.TryGetProperty("userId", out _) ? defaultUserId : Text(body, "userId", 64, Fail);

        var currency = body.TryGetProperty("currency", out var c) ? JsonText.String(c) : null;
        if (currency is null || currency.Length != 3 || !currency.All(char.IsAsciiLetter)) Fail("currency", "must be a 3-letter currency code");

        var lines = new List<OrderLine>();
        if (!body.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
            Fail("items", "is required and must be an array");
        else if (items.GetArrayLength() is 0 or > MaxItems)
            Fail("items", $"must hold 1-{MaxItems} items");
        else
        {
            var i = 0;
            foreach (var item in items.EnumerateArray())
            {
                var at = $"items[{i++}]";
                if (item.ValueKind != JsonValueKind.Object) { Fail(at, "must be an object"); continue; }
                var sku = Text(item, "sku", 64, (f, m) => Fail($"{at}.{f}", m));
                int qty = 0;
                if (!item.TryGetProperty("qty", out var q) || q.ValueKind != JsonValueKind.Number || !q.TryGetInt32(out qty) || qty is < 1 or > MaxQty)
                    Fail($"{at}.qty", $"must be an integer from 1 to {MaxQty}");
                // Optional, and never what is charged: inventory prices every line from its catalogue. Old clients still
                // send it, so one that is sent is still checked, and travels in order.created as the price they quoted (0: none).
                decimal price = 0;
                if (item.TryGetProperty("price", out var p) && p.ValueKind != JsonValueKind.Null
                    && (p.ValueKind != JsonValueKind.Number || !p.TryGetDecimal(out price) || price <= 0 || price > MaxPrice || decimal.Round(price, 2) != price))
                    Fail($"{at}.price", $"must be a number above 0 and at most {MaxPrice} with at most 2 decimals, or left out");
                // A fixed scale, so 1.5 and 1.50 are the same price everywhere (hash, events, storage).
                if (sku is not null) lines.Add(new OrderLine(sku, qty, decimal.Round(price, 2) + 0.00m));
            }
        }

        var sum = lines.Sum(l => l.Qty * l.Price);
        if (body.TryGetProperty("amount", out var a) && a.ValueKind != JsonValueKind.Null)
        {
            if (a.ValueKind != JsonValueKind.Number || !a.TryGetDecimal(out var amount)) Fail("amount", "must be a number");
            else if (errors.Count == 0 && amount != sum) Fail("amount", $"must equal the sum of qty x price ({sum})");
        }

        return errors.Count > 0 ? (null, errors) : (new ValidOrder(userId!, lines, currency!.ToUpperInvariant(), sum), errors);
    }

    private static string? Text(JsonElement obj, string name, int maxLength, Action<string, string> fail)
    {
        // Control characters are refused: no user or SKU has one, and PostgreSQL cannot store a NUL in text or jsonb.
        if (obj.TryGetProperty(name, out var v) && JsonText.String(v) is { Length: > 0 } s && s.Length <= maxLength && !string.IsNullOrWhiteSpace(s) && !s.Any(char.IsControl))
            return s;
        fail(name, $"must be a string of 1-{maxLength} printable characters");
        return null;
    }
}
