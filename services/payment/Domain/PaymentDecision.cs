using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;

namespace OrderStream.Payment.Domain;

/// <summary>Simulated authorization settings, bound from <c>Payment</c> (<c>Payment__DeclineRate</c>, ...).</summary>
public sealed class PaymentOptions
{
    public const string Section = "Payment";

    /// <summary>Share of orders declined, 0..1. Chosen by a hash of the order id, so a redelivery decides the same way.</summary>
    [Range(0.0, 1.0)] public double DeclineRate { get; set; }

    /// <summary>Orders whose user id starts with this are always declined (a deterministic trigger for tests and demos). Empty disables it.</summary>
    public string DeclineUserPrefix { get; set; } = "decline";

    /// <summary>Added to every authorization, in milliseconds: a slow payment provider, simulated.</summary>
    [Range(0, PaymentSettings.MaxExtraLatencyMs)] public int ExtraLatencyMs { get; set; }
}

/// <summary>
/// The settings payment decides with, seeded from <see cref="PaymentOptions"/> at start and changed at
/// runtime by operators (<c>PUT /admin/payment/settings</c>); not persisted, so a restart goes back to
/// the configuration. Only future decisions change: a decided payment is never revisited.
/// </summary>
public sealed class PaymentSettings(Microsoft.Extensions.Options.IOptions<PaymentOptions> options)
{
    public const int MaxExtraLatencyMs = 60_000;

    private volatile PaymentOptions _current = Copy(options.Value);

    public PaymentOptions Current => _current;

    public PaymentOptions Update(double? declineRate, int? extraLatencyMs)
    {
        var next = Copy(_current);
        if (declineRate is { } rate) next.DeclineRate = rate;
        if (extraLatencyMs is { } latency) next.ExtraLatencyMs = latency;
        _current = next;
        return next;
    }

    // Readers hold a snapshot: an update never changes an object a decision is reading.
    private static PaymentOptions Copy(PaymentOptions o) =>
        new() { DeclineRate = o.DeclineRate, DeclineUserPrefix = o.DeclineUserPrefix, ExtraLatencyMs = o.ExtraLatencyMs };
}

public static class PaymentDecision
{
    public static bool ShouldDecline(Guid orderId, string userId, PaymentOptions options)
    {
        if (options.DeclineUserPrefix.Length > 0 && userId.StartsWith(options.DeclineUserPrefix, StringComparison.Ordinal))
            return true;
        return options.DeclineRate > 0 && Bucket(orderId) < options.DeclineRate;
    }

    /// <summary>A uniform value in [0, 1) derived from the order id (v7 ids are time-ordered, so the raw bytes are not uniform).</summary>
    public static double Bucket(Guid orderId)
    {
        Span<byte> id = stackalloc byte[16];
        Span<byte> hash = stackalloc byte[32];
        orderId.TryWriteBytes(id);
        SHA256.HashData(id, hash);
        return BitConverter.ToUInt32(hash) / (uint.MaxValue + 1.0);
    }
}
