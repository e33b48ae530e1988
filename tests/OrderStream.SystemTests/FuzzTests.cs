using System.Net;
using System.Net.Http.Headers;
using System.Text;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

/// <summary>
/// The public request bodies and headers under seeded random input: random bytes, truncations, byte
/// flips and field mutations of valid orders and cancels, and mangled headers (a bearer token among
/// them). Requests go as the user their body names (the stack's client signs a token for that user).
/// No case may answer 5xx or go unanswered, every refusal is problem+json, and afterwards the books
/// balance. A failure names its case and seed; <c>ORDERSTREAM_FUZZ_SEED</c> replays another seed.
/// </summary>
public sealed class FuzzTests(OrderStreamStack stack, ITestOutputHelper output) : IClassFixture<OrderStreamStack>
{
    private const int Cases = 3000;
    private const string Sku = "FZ-1";
    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData("{\"userId\":\"\xff\xfe\",\"currency\":\"EUR\",\"items\":[{\"sku\":\"FZ-1\",\"qty\":1,\"price\":1.00}]}")]
    [InlineData("{\"userId\":\"\\ud800\",\"currency\":\"EUR\",\"items\":[{\"sku\":\"FZ-1\",\"qty\":1,\"price\":1.00}]}")]
    [InlineData("{\"userId\":\"u\",\"currency\":\"EU\\udc00\",\"items\":[{\"sku\":\"FZ-1\",\"qty\":1,\"price\":1.00}]}")]
    [InlineData("{\"userId\":\"a\\u0000b\",\"currency\":\"EUR\",\"items\":[{\"sku\":\"FZ-1\",\"qty\":1,\"price\":1.00}]}")]
    [InlineData("{\"userId\":\"u\",\"currency\":\"EUR\",\"items\":[{\"sku\":\"FZ\\u0000\",\"qty\":1,\"price\":1.00}]}")]
    public async Task An_order_whose_text_is_not_UTF_8_not_text_or_holds_a_NUL_answers_400(string latin1Body)
    {
        // Latin-1 maps each char to one byte, so "\xff" in the literal is the byte 0xFF on the wire.
        var response = await stack.Http.SendAsync(Post("/orders", Encoding.Latin1.GetBytes(latin1Body)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_order_cancel_whose_reason_is_not_UTF_8_answers_400()
    {
        await stack.SeedAsync(Sku, 1_000_000);
        var id = await stack.PlaceAsync(Orders.Body("fuzz-utf8", (Sku, 1, 1.00m)));
        var response = await stack.Http.SendAsync(Post($"/orders/{id}/cancel", Encoding.Latin1.GetBytes("{\"reason\":\"\xc3\"}")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Thousands_of_mangled_orders_and_cancels_get_no_5xx_and_no_hang_and_the_books_balance()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("ORDERSTREAM_FUZZ_SEED"), out var s) ? s : 20261203;
        await stack.SeedAsync(Sku, 1_000_000);
        var owned = await stack.PlaceAsync(Orders.Body("fuzz-owner", (Sku, 1, 2.50m)));
        var fuzzer = new RequestFuzzer(new Random(seed), owned);

        var statuses = new SortedDictionary<int, int>();
        var failures = new List<string>();
        for (var i = 0; i < Cases; i++)
        {
            var (kind, request) = fuzzer.Next();
            var described = $"case {i} ({kind}) of seed {seed}: {request.Method} {request.RequestUri}";
            using var cts = new CancellationTokenSource(PerRequest);
            HttpResponseMessage response;
            try { response = await stack.Http.SendAsync(request, cts.Token); }
            catch (OperationCanceledException) { failures.Add($"{described}: no answer within {PerRequest}"); continue; }
            using (response)
            {
                var code = (int)response.StatusCode;
                statuses[code] = statuses.GetValueOrDefault(code) + 1;
                if (code >= 500) failures.Add($"{described}: {code} {await response.Content.ReadAsStringAsync()}");
                // Kestrel itself refuses a request target holding a NUL byte (%00), before any endpoint runs,
                // with a bare 400; every other refusal is the application's and must say why.
                else if (code >= 400 && !(code == 400 && request.RequestUri!.OriginalString.Contains("%00"))
                         && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    failures.Add($"{described}: {code} without problem+json");
            }
        }
        output.WriteLine($"seed {seed}: {Cases} cases; by status: {string.Join(", ", statuses.Select(kv => $"{kv.Key} x{kv.Value}"))}");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        // The cases that were valid enough to be accepted went through the saga like any order.
        Assert.Contains(202, statuses.Keys);
        Assert.Contains(400, statuses.Keys);
        await stack.AssertBooksBalanceAsync(output);
    }

    private static HttpRequestMessage Post(string path, byte[] body, string contentType = "application/json")
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
    }

    /// <summary>Makes each case from valid requests: every mutation is a plain function of the seeded random.</summary>
    private sealed class RequestFuzzer(Random random, Guid ownedOrder)
    {
        // JSON fragments a field may be replaced with: wrong types, edge numbers, text that is not
        // UTF-8 or not text (lone surrogates), control characters, very long and deeply nested values.
        private static readonly byte[][] Fragments =
        [
            .. new[]
            {
                "null", "true", "0", "-1", "1e400", "-1e-400", "123456789012345678901234567890", "1.005", "0.001", "2147483648",
                "\"\"", "\" \"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\ud83d\\ude00\"", "\"EUR\"", "\"2\"", "\"decline-x\"",
                "{}", "[]", "[{}]", "[null]", "{\"sku\":\"" + Sku + "\"}", new string('[', 200) + new string(']', 200),
                "\"" + new string('x', 5000) + "\"",
            }.Select(Encoding.UTF8.GetBytes),
            [(byte)'"', 0xff, 0xfe, (byte)'"'],
            [(byte)'"', 0xc3, (byte)'"'],
            [(byte)'"', 0xed, 0xa0, 0x80, (byte)'"'],
        ];

        private static readonly string[] ContentTypes =
            ["application/json", "application/json; charset=utf-8", "text/plain", "application/problem+json", "application/json; charset=latin1", "", "*/*", "application/x-www-form-urlencoded"];

        private int _users;

        public (string Kind, HttpRequestMessage Request) Next() => random.Next(10) switch
        {
            0 => ("random bytes", Post(OrderOrCancelPath(), RandomBytes(random.Next(0, 400)))),
            1 => ("truncated order", Post("/orders", Truncate(Order()))),
            2 => ("flipped order", Post("/orders", Flip(Order()))),
            3 or 4 => ("mutated order", Post("/orders", Order(mutate: true))),
            5 => ("truncated cancel", Post(CancelPath(), Truncate(Cancel()))),
            6 => ("mutated cancel", Post(CancelPath(), random.Next(2) == 0 ? Flip(Cancel()) : Cancel(mutate: true))),
            7 => ("order headers", WithHeaders(Post("/orders", Order(), ContentTypes[random.Next(ContentTypes.Length)]))),
            8 => ("cancel headers", Post(CancelPath(), Cancel(), ContentTypes[random.Next(ContentTypes.Length)])),
            _ => ("valid order", Post("/orders", Order())),
        };

        private string OrderOrCancelPath() => random.Next(2) == 0 ? "/orders" : CancelPath();

        private string CancelPath() => random.Next(4) switch
        {
            0 => $"/orders/{ownedOrder}/cancel",
            1 => $"/orders/{Guid.NewGuid()}/cancel",
            2 => $"/orders/{Uri.EscapeDataString(Encoding.Latin1.GetString(RandomBytes(random.Next(1, 40))))}/cancel",
            _ => $"/orders/{ownedOrder.ToString()[..random.Next(1, 36)]}/cancel",
        };

        private byte[] Order(bool mutate = false)
        {
            var item = new List<(string, byte[])> { ("sku", Json($"\"{Sku}\"")), ("qty", Json(random.Next(1, 4).ToString())), ("price", Json("2.50")) };
            var fields = new List<(string, byte[])>
            {
                ("userId", Json($"\"fuzz-{_users++ % 50}\"")),
                ("currency", Json("\"EUR\"")),
                ("items", []),
            };
            if (mutate)
            {
                // One mutation, in an item or at the top, so most of the request stays valid and reaches deep checks.
                if (random.Next(2) == 0) Mutate(item); else Mutate(fields);
            }
            var items = Concat(Json("["), ObjectOf(item), Json("]"));
            return ObjectOf(fields.Select(f => f.Item1 == "items" && f.Item2.Length == 0 ? (f.Item1, items) : f).ToList());
        }

        private byte[] Cancel(bool mutate = false)
        {
            var fields = new List<(string, byte[])> { ("reason", Json("\"changed my mind\"")), ("userId", Json("\"fuzz-owner\"")) };
            if (mutate) Mutate(fields);
            return ObjectOf(fields);
        }

        private void Mutate(List<(string Name, byte[] Value)> fields)
        {
            var at = random.Next(fields.Count);
            switch (random.Next(4))
            {
                case 0: fields.RemoveAt(at); break;
                case 1: fields.Add((fields[at].Name, Fragments[random.Next(Fragments.Length)])); break; // a duplicate key
                case 2: fields.Add(("extra", Fragments[random.Next(Fragments.Length)])); break;
                default: fields[at] = (fields[at].Name, Fragments[random.Next(Fragments.Length)]); break;
            }
        }

        private HttpRequestMessage WithHeaders(HttpRequestMessage request)
        {
            var value = Encoding.Latin1.GetString(RandomBytes(random.Next(0, 300)).Select(b => (byte)(b % 95 + 32)).ToArray());
            switch (random.Next(4))
            {
                case 0: request.Headers.TryAddWithoutValidation("Idempotency-Key", value); break;
                case 1: request.Headers.TryAddWithoutValidation("Prefer", random.Next(2) == 0 ? "wait=" + value : value); break;
                case 2: request.Headers.TryAddWithoutValidation("X-Client-Id", value); break;
                // A bearer token that is not one (garbage, or three dot-separated parts of it): 401, never 5xx.
                default: request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + (random.Next(2) == 0 ? value : $"{value}.{value}.{value}")); break;
            }
            return request;
        }

        private byte[] Truncate(byte[] body) => body[..random.Next(body.Length)];

        private byte[] Flip(byte[] body)
        {
            var copy = (byte[])body.Clone();
            for (var n = random.Next(1, 4); n > 0; n--) copy[random.Next(copy.Length)] = (byte)random.Next(256);
            return copy;
        }

        private byte[] RandomBytes(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        private static byte[] ObjectOf(List<(string Name, byte[] Value)> fields) =>
            Concat([Json("{"), .. fields.SelectMany((f, i) => new[] { Json((i > 0 ? "," : "") + $"\"{f.Name}\":"), f.Value }), Json("}")]);

        private static byte[] Json(string text) => Encoding.UTF8.GetBytes(text);

        private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
    }
}
