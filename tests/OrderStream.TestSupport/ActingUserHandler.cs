using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace OrderStream.TestSupport;

/// <summary>
/// The test client of the public API (<see cref="OrderStreamStack.Http"/>): a request without an
/// Authorization header is sent as the user it is about, as that user's own client would send it. A
/// <c>POST /orders</c> as the body's <c>userId</c> (a customer), then that order's reads and cancels as its
/// owner; a list of one user's orders as that user; stock and price changes and ship requests as a seller; everything else (other
/// reads, /admin) as an admin. A request that sets its own Authorization (the security tests) goes as it is.
/// </summary>
public sealed class ActingUserHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    public const string DefaultCustomer = "test-customer";

    private readonly ConcurrentDictionary<Guid, string> _owners = new();

    /// <summary>Records that <paramref name="orderId"/> belongs to <paramref name="user"/> (an order placed another way).</summary>
    public void Own(Guid orderId, string user) => _owners[orderId] = user;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (request.Headers.Authorization is not null || request.RequestUri is not { } uri) return await base.SendAsync(request, ct);
        var path = (uri.IsAbsoluteUri ? uri.AbsolutePath : uri.OriginalString.Split('?')[0]).TrimEnd('/');
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string? placedBy = null;
        string token;
        if (request.Method == HttpMethod.Post && path == "/orders")
        {
            // A chunked body is sent as it is (the test is about its streaming), so its user is not read from it.
            placedBy = (request.Headers.TransferEncodingChunked == true ? null : await UserOfAsync(request.Content, ct)) ?? DefaultCustomer;
            token = TestIdentity.Customer(placedBy);
        }
        // A ship request is a seller's (any seller ships any confirmed order).
        else if (segments is ["orders", _, "ship"] && request.Method == HttpMethod.Post) token = TestIdentity.Seller();
        else if (segments is ["orders", var id, ..] && id is not ("stuck" or "unshipped"))
        {
            // The owner reads and cancels; an order the handler did not see placed is read as an admin (who
            // may read any) and cancelled as some customer (who then gets the 404 of another's order).
            token = Guid.TryParse(id, out var orderId) && _owners.TryGetValue(orderId, out var owner) ? TestIdentity.Customer(owner)
                : request.Method == HttpMethod.Get ? TestIdentity.Admin() : TestIdentity.Customer(DefaultCustomer);
        }
        else if (segments is ["orders"] && QueryValue(uri, "userId") is { } listed) token = TestIdentity.Customer(listed);
        else if (segments is ["inventory" or "products", ..] && request.Method != HttpMethod.Get) token = TestIdentity.Seller();
        else token = TestIdentity.Admin();

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, ct);
        if (placedBy is not null && response.StatusCode == HttpStatusCode.Accepted && response.Headers.Location is { } location
            && Guid.TryParse(location.OriginalString.Split('/').Last(), out var placed))
            _owners[placed] = placedBy;
        return response;
    }

    private static async Task<string?> UserOfAsync(HttpContent? content, CancellationToken ct)
    {
        if (content is null) return null;
        try
        {
            // Buffered, so the request still sends the body afterwards.
            await content.LoadIntoBufferAsync(ct);
            using var json = JsonDocument.Parse(await content.ReadAsByteArrayAsync(ct));
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("userId", out var user)
                && user.ValueKind == JsonValueKind.String && user.GetString() is { Length: > 0 } id ? id : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null; // a malformed body, or a user id that is not text: any customer gets the 400
        }
    }

    private static string? QueryValue(Uri uri, string name)
    {
        var query = uri.IsAbsoluteUri ? uri.Query : uri.OriginalString.Contains('?') ? uri.OriginalString[uri.OriginalString.IndexOf('?')..] : "";
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            if (pair.Split('=', 2) is [var key, var value] && Uri.UnescapeDataString(key) == name) return Uri.UnescapeDataString(value.Replace('+', ' '));
        return null;
    }
}
