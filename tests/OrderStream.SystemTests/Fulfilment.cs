using System.Net;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

/// <summary>What the fulfilment tests share: ship requests (as a seller, through the acting client) and their answers.</summary>
internal static class Fulfilment
{
    public sealed record ShipAccepted(Guid OrderId, string RequestedBy, DateTimeOffset ShipRequestedAt);

    /// <summary>POST /orders/{id}/ship as a seller (<see cref="ActingUserHandler"/> sends ship requests with a seller's token).</summary>
    public static Task<HttpResponseMessage> ShipAsync(this OrderStreamStack stack, Guid orderId) =>
        stack.Http.PostAsync($"/orders/{orderId}/ship", null);

    /// <summary>A ship request the gateway accepted: 202, Location of the order, and the body it answers (the same for repeats).</summary>
    public static async Task<ShipAccepted> ShipAcceptedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202, got {response.StatusCode}: {text}");
        var accepted = JsonSerializer.Deserialize<ShipAccepted>(text, EventJson.Options)!;
        Assert.Equal($"/orders/{accepted.OrderId}", response.Headers.Location?.ToString());
        return accepted;
    }

    /// <summary>A problem+json answer with <paramref name="expected"/> status; returns its title.</summary>
    public static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.GetProperty("title").GetString() ?? "";
    }
}
