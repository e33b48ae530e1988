using OrderStream.Payment.Domain;

namespace OrderStream.Payment.Http;

public static class PaymentAdminEndpoints
{
    public sealed record SettingsView(double DeclineRate, int ExtraLatencyMs, string DeclineUserPrefix);

    public sealed record SettingsRequest(double? DeclineRate, int? ExtraLatencyMs);

    /// <summary><c>/admin/payment/settings</c>: the decline rate and extra latency, read and changed at runtime.</summary>
    public static void MapPaymentAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/settings", (PaymentSettings settings) => View(settings.Current));
        admin.MapPut("/settings", (SettingsRequest request, PaymentSettings settings) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (request.DeclineRate is < 0 or > 1 or double.NaN) errors["declineRate"] = ["must be from 0 to 1"];
            if (request.ExtraLatencyMs is < 0 or > PaymentSettings.MaxExtraLatencyMs) errors["extraLatencyMs"] = [$"must be from 0 to {PaymentSettings.MaxExtraLatencyMs}"];
            if (request.DeclineRate is null && request.ExtraLatencyMs is null) errors["body"] = ["set declineRate and/or extraLatencyMs"];
            return errors.Count > 0 ? Results.ValidationProblem(errors) : Results.Ok(View(settings.Update(request.DeclineRate, request.ExtraLatencyMs)));
        });
    }

    private static SettingsView View(PaymentOptions o) => new(o.DeclineRate, o.ExtraLatencyMs, o.DeclineUserPrefix);
}
