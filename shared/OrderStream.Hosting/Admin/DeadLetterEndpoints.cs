using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OrderStream.Contracts;
using OrderStream.Messaging.DeadLetters;

namespace OrderStream.Hosting.Admin;

/// <summary>
/// <c>/admin/deadletters</c>: the HTTP face of <see cref="DeadLetterAdmin"/>. Here only the request is
/// checked (validation problems name the field) and the answer shaped; the work is the admin's.
/// </summary>
public static class DeadLetterEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1_000;

    /// <summary>Maps the dead-letter routes in their protected admin group (needs <c>AddDeadLetterAdmin</c>).</summary>
    public static RouteGroupBuilder MapDeadLetters(this WebApplication app)
    {
        var admin = app.MapAdminGroup("deadletters");
        admin.MapGet("", ListAsync);
        admin.MapPost("/redrive", RedriveAsync);
        admin.MapPost("/purge", PurgeAsync);
        return admin;
    }

    /// <summary>Without a topic: every dead-letter topic with its counts. With one: its dead letters, oldest first per partition.</summary>
    private static async Task<IResult> ListAsync(string? topic, int? limit, bool? waiting, DeadLetterAdmin admin, CancellationToken ct)
    {
        if (topic is null) return Results.Ok(new { topics = await admin.SummariesAsync(ct) });
        if (DeadLetterAdmin.Resolve(topic) is not var (dlq, originalTopic)) return UnknownTopic();
        if (limit is < 1 or > MaxLimit) return Invalid("limit", $"must be from 1 to {MaxLimit}");
        return Results.Ok(await admin.ListAsync(dlq, originalTopic, limit ?? DefaultLimit, waiting == true, ct));
    }

    /// <summary>
    /// Republishes one dead letter (<c>partition</c> and <c>offset</c>) or all of a topic (at most
    /// <c>limit</c>) to the topic it came from. Those redriven before are skipped.
    /// </summary>
    private static async Task<IResult> RedriveAsync(string? topic, int? partition, long? offset, int? limit, DeadLetterAdmin admin, CancellationToken ct)
    {
        if (DeadLetterAdmin.Resolve(topic) is not var (dlq, originalTopic)) return UnknownTopic();
        if (partition is null != offset is null) return Invalid("offset", "partition and offset go together: both for one dead letter, neither for all");
        if (partition is < 0 || offset is < 0) return Invalid("offset", "partition and offset must not be negative");
        if (limit is < 1) return Invalid("limit", "must be at least 1");
        if (partition is not null && limit is not null) return Invalid("limit", "applies to a redrive of all, not of one dead letter");

        if (partition is not { } p || offset is not { } o) return Results.Ok(await admin.RedriveAllAsync(dlq, originalTopic, limit, ct));
        return await admin.RedriveOneAsync(dlq, originalTopic, p, o, ct) is { } result
            ? Results.Ok(result)
            : Results.Problem(statusCode: 404, title: $"No dead letter at {dlq} [{p}] @{o}",
                detail: "It was purged, removed by retention, or never written. GET /admin/deadletters?topic=... lists them.");
    }

    /// <summary>Removes every dead letter of the topic up to its current end. The confirmation must repeat the dead-letter topic's name.</summary>
    private static async Task<IResult> PurgeAsync(string? topic, string? confirm, DeadLetterAdmin admin, CancellationToken ct)
    {
        if (DeadLetterAdmin.Resolve(topic) is not var (dlq, originalTopic)) return UnknownTopic();
        if (confirm != dlq) return Invalid("confirm", $"must repeat the dead-letter topic's name, '{dlq}', to confirm the purge");
        return Results.Ok(await admin.PurgeAsync(dlq, originalTopic, ct));
    }

    private static IResult UnknownTopic() =>
        Invalid("topic", $"must be a saga topic or its dead-letter topic ({string.Join(", ", Topics.All.Select(Topics.DeadLetter))})");

    private static IResult Invalid(string field, string error) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [error] });
}
