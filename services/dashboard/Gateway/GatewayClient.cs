using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.Dashboard.Hosting;

namespace OrderStream.Dashboard.Gateway;

/// <summary>
/// The dashboard's only way into the system: the gateway's API, called with the signed-in person's own
/// token, so the gateway decides what they may see and do exactly as it would for them directly (the
/// dashboard holds no key of its own). Reads throw when the gateway cannot be reached or refuses (a page's
/// poll shows that as "gateway unreachable" with the reason); changes answer an <see cref="ApiResult{T}"/>
/// so a refusal is shown, not thrown.
/// </summary>
public sealed class GatewayClient(HttpClient http, SignedInUser user)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void Configure(HttpClient http, GatewayOptions options)
    {
        http.BaseAddress = new Uri(options.BaseUrl.TrimEnd('/') + "/");
        http.Timeout = options.Timeout;
    }

    // Orders

    public Task<ApiResult<OrderAccepted>> PlaceOrderAsync(PlaceOrderRequest order, CancellationToken ct = default) =>
        SendAsync<OrderAccepted>(HttpMethod.Post, "orders", order, ct);

    public async Task<OrderPage> ListOrdersAsync(string? status, string? userId, int limit, CancellationToken ct = default)
    {
        var query = new List<string> { $"limit={limit.ToString(CultureInfo.InvariantCulture)}" };
        if (!string.IsNullOrWhiteSpace(status)) query.Add("status=" + Uri.EscapeDataString(status));
        if (!string.IsNullOrWhiteSpace(userId)) query.Add("userId=" + Uri.EscapeDataString(userId.Trim()));
        return await GetAsync<OrderPage>("orders?" + string.Join('&', query), ct) ?? new OrderPage([], null);
    }

    /// <summary>The order (settled or not), or null if the gateway does not know it.</summary>
    public async Task<OrderView?> GetOrderAsync(Guid orderId, CancellationToken ct = default)
    {
        using var request = await AuthorizedAsync(new HttpRequestMessage(HttpMethod.Get, $"orders/{orderId}"));
        // The gateway would hold a pending order's answer until it settles (long poll); a page that polls
        // every second wants the state now.
        request.Headers.TryAddWithoutValidation("Prefer", "wait=0");
        using var response = await http.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<OrderView>(EventJson.Options, ct);
    }

    public Task<ApiResult<CancelAccepted>> CancelOrderAsync(Guid orderId, CancellationToken ct = default) =>
        SendAsync<CancelAccepted>(HttpMethod.Post, $"orders/{orderId}/cancel", new { reason = "cancelled from the dashboard" }, ct);

    /// <summary>A seller asks to ship a CONFIRMED order (202; a 409 problem when it is not confirmed or was cancelled).</summary>
    public Task<ApiResult<ShipAccepted>> ShipOrderAsync(Guid orderId, CancellationToken ct = default) =>
        SendAsync<ShipAccepted>(HttpMethod.Post, $"orders/{orderId}/ship", null, ct);

    /// <summary>Confirmed orders not shipped within the system's <c>Fulfilment__ShipWithin</c>, oldest first.</summary>
    public async Task<UnshippedOrders> GetUnshippedOrdersAsync(CancellationToken ct = default) =>
        await GetAsync<UnshippedOrders>("orders/unshipped?limit=100", ct) ?? new UnshippedOrders(0, 0, []);

    public async Task<StuckOrders> GetStuckOrdersAsync(int olderThanSeconds, CancellationToken ct = default) =>
        await GetAsync<StuckOrders>($"orders/stuck?olderThan={olderThanSeconds.ToString(CultureInfo.InvariantCulture)}&limit=100", ct)
        ?? new StuckOrders(olderThanSeconds, 0, []);

    // Inventory

    public async Task<IReadOnlyList<StockLevel>> GetInventoryAsync(CancellationToken ct = default) =>
        await GetAsync<List<StockLevel>>("inventory", ct) ?? [];

    /// <summary>POST: adds (or, negative, takes out) <c>quantity</c>.</summary>
    public Task<ApiResult<StockLevel>> RestockAsync(string sku, long quantity, string? reason, CancellationToken ct = default) =>
        SendAsync<StockLevel>(HttpMethod.Post, $"inventory/{Uri.EscapeDataString(sku)}", new StockChange(quantity, null, reason), ct);

    /// <summary>PUT: sets available to <c>level</c>.</summary>
    public Task<ApiResult<StockLevel>> SetLevelAsync(string sku, long level, string? reason, CancellationToken ct = default) =>
        SendAsync<StockLevel>(HttpMethod.Put, $"inventory/{Uri.EscapeDataString(sku)}", new StockChange(null, level, reason), ct);

    // Products (the catalogue orders are priced from)

    /// <summary>The catalogue: every SKU for sale with its name and unit price (anyone may read it).</summary>
    public async Task<IReadOnlyList<Product>> GetProductsAsync(CancellationToken ct = default) =>
        await GetAsync<List<Product>>("products", ct) ?? [];

    /// <summary>PUT: lists the SKU or replaces its name and price (a seller's; orders reserved from then on are charged it).</summary>
    public Task<ApiResult<Product>> SetProductAsync(string sku, ProductChange change, CancellationToken ct = default) =>
        SendAsync<Product>(HttpMethod.Put, $"products/{Uri.EscapeDataString(sku)}", change, ct);

    // Operations

    /// <summary>The whole system's state, or null while the gateway has no <c>/admin/system</c> (an older gateway).</summary>
    public async Task<SystemStatus?> GetSystemAsync(int stuckAfterSeconds, CancellationToken ct = default)
    {
        using var request = await AuthorizedAsync(new HttpRequestMessage(HttpMethod.Get, $"admin/system?stuckAfter={stuckAfterSeconds.ToString(CultureInfo.InvariantCulture)}"));
        using var response = await http.SendAsync(request, ct);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed) return null;
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<SystemStatus>(Json, ct);
    }

    public Task<ApiResult<CrashAccepted>> CrashAsync(string service, CancellationToken ct = default) =>
        SendAsync<CrashAccepted>(HttpMethod.Post, $"admin/{service}/crash", null, ct);

    public Task<ConsumerState?> GetConsumerAsync(string service, CancellationToken ct = default) =>
        GetAsync<ConsumerState>($"admin/{service}/consumer", ct);

    public Task<ApiResult<ConsumerState>> PauseConsumerAsync(string service, bool pause, CancellationToken ct = default) =>
        SendAsync<ConsumerState>(HttpMethod.Post, $"admin/{service}/consumer/{(pause ? "pause" : "resume")}", null, ct);

    public Task<ApiResult<ConsumerState>> SetFailuresAsync(string service, double rate, string mode, CancellationToken ct = default) =>
        SendAsync<ConsumerState>(HttpMethod.Put, $"admin/{service}/consumer/failures", new FailuresChange(rate, mode), ct);

    public Task<PaymentSettings?> GetPaymentSettingsAsync(CancellationToken ct = default) =>
        GetAsync<PaymentSettings>("admin/payment/settings", ct);

    public Task<ApiResult<PaymentSettings>> SetPaymentSettingsAsync(PaymentSettingsChange change, CancellationToken ct = default) =>
        SendAsync<PaymentSettings>(HttpMethod.Put, "admin/payment/settings", change, ct);

    /// <summary>Each vendor whose stock inventory syncs: its state, last good sync, failures and shortfall.</summary>
    public Task<IReadOnlyList<VendorStatus>?> GetVendorsAsync(CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<VendorStatus>>("admin/inventory/vendors", ct);

    public Task<ReadOnlyState?> GetReadOnlyAsync(CancellationToken ct = default) =>
        GetAsync<ReadOnlyState>("admin/gateway/read-only", ct);

    public Task<ApiResult<ReadOnlyState>> SetReadOnlyAsync(bool enabled, CancellationToken ct = default) =>
        SendAsync<ReadOnlyState>(HttpMethod.Put, "admin/gateway/read-only", new ReadOnlyChange(enabled), ct);

    // Dead letters

    public async Task<IReadOnlyList<DeadLetterTopic>> GetDeadLetterTopicsAsync(CancellationToken ct = default) =>
        (await GetAsync<DeadLetterTopics>("admin/deadletters", ct))?.Topics ?? [];

    public Task<DeadLetterListing?> GetDeadLettersAsync(string topic, int limit, CancellationToken ct = default) =>
        GetAsync<DeadLetterListing>($"admin/deadletters?topic={Uri.EscapeDataString(topic)}&limit={limit.ToString(CultureInfo.InvariantCulture)}", ct);

    /// <summary>All of a topic's dead letters, or one (<paramref name="partition"/> and <paramref name="offset"/>).</summary>
    public Task<ApiResult<RedriveResult>> RedriveAsync(string topic, int? partition = null, long? offset = null, CancellationToken ct = default)
    {
        var query = "topic=" + Uri.EscapeDataString(topic);
        if (partition is { } p && offset is { } o) query += $"&partition={p.ToString(CultureInfo.InvariantCulture)}&offset={o.ToString(CultureInfo.InvariantCulture)}";
        return SendAsync<RedriveResult>(HttpMethod.Post, "admin/deadletters/redrive?" + query, null, ct);
    }

    public Task<ApiResult<PurgeResult>> PurgeAsync(string topic, string confirm, CancellationToken ct = default) =>
        SendAsync<PurgeResult>(HttpMethod.Post, $"admin/deadletters/purge?topic={Uri.EscapeDataString(topic)}&confirm={Uri.EscapeDataString(confirm)}", null, ct);

    // Plumbing

    // Every call carries the person's token; none carries anything of the dashboard's own.
    private async Task<HttpRequestMessage> AuthorizedAsync(HttpRequestMessage request)
    {
        if (await user.AccessTokenAsync() is { Length: > 0 } token) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private async Task<T?> GetAsync<T>(string path, CancellationToken ct)
    {
        using var request = await AuthorizedAsync(new HttpRequestMessage(HttpMethod.Get, path));
        using var response = await http.SendAsync(request, ct);
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<T>(Json, ct);
    }

    private async Task<ApiResult<T>> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = await AuthorizedAsync(new HttpRequestMessage(method, path));
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        try
        {
            using var response = await http.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode) return new ApiResult<T>(response.StatusCode, default, ProblemText.From(response.StatusCode, text));
            var value = text.Length == 0 ? default : JsonSerializer.Deserialize<T>(text, Json);
            return new ApiResult<T>(response.StatusCode, value, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new ApiResult<T>(0, default, $"The gateway did not answer: {ex.Message}");
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var problem = ProblemText.From(response.StatusCode, await response.Content.ReadAsStringAsync(ct));
        // The cookie ends with the token, a little before the gateway stops accepting it (its clock skew), so
        // a reload is what takes the person to the sign-in page.
        throw new GatewayException(response.StatusCode == HttpStatusCode.Unauthorized
            ? $"The gateway no longer accepts your sign-in: reload the page to sign in again ({problem})."
            : problem);
    }
}

/// <summary>The gateway answered a read with an error (a 503 while a service it asks is down, a 401 once the token expired).</summary>
public sealed class GatewayException(string message) : Exception(message);
