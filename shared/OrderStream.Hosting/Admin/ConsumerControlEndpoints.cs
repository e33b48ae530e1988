using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OrderStream.Messaging;

namespace OrderStream.Hosting.Admin;

/// <summary><c>/admin/{service}/consumer</c>: pause, resume and failure injection of a service's consumer.</summary>
public static class ConsumerControlEndpoints
{
    public sealed record ConsumerState(bool Paused, FailureInjection Failures, IReadOnlyCollection<string> Topics);

    public sealed record FailuresRequest(double? Rate, FailureMode? Mode, string? Topic);

    internal static void MapConsumerControls(this RouteGroupBuilder admin)
    {
        static ConsumerState State(ConsumerControl control, EventSubscriptions subscriptions) =>
            new(control.Paused, control.Failures, [.. subscriptions.Topics.Order(StringComparer.Ordinal)]);

        admin.MapGet("/consumer", (ConsumerControl control, EventSubscriptions subscriptions) => State(control, subscriptions));
        admin.MapPost("/consumer/pause", (ConsumerControl control, EventSubscriptions subscriptions) =>
        {
            control.Pause();
            return State(control, subscriptions);
        });
        admin.MapPost("/consumer/resume", (ConsumerControl control, EventSubscriptions subscriptions) =>
        {
            control.Resume();
            return State(control, subscriptions);
        });
        admin.MapPut("/consumer/failures", (FailuresRequest request, ConsumerControl control, EventSubscriptions subscriptions) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (request.Rate is not (>= 0 and <= 1)) errors["rate"] = ["is required and must be from 0 to 1"];
            if (request.Topic is not null && !subscriptions.Topics.Contains(request.Topic))
                errors["topic"] = [$"must be one of the consumer's topics ({string.Join(", ", subscriptions.Topics)}) or null for all"];
            if (errors.Count > 0) return Results.ValidationProblem(errors);
            control.InjectFailures(new FailureInjection(request.Rate!.Value, request.Mode ?? FailureMode.Transient, request.Topic));
            return Results.Ok(State(control, subscriptions));
        });
    }
}
