using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Pigato.TestUtilities;
using Pigato.Management;
using Pigato.Security;

namespace Pigato.Integration.Tests;

/// <summary>The broker's management endpoint over HTTP: health, stats, history, events, Prometheus metrics, the token.</summary>
public sealed class ManagementEndpointTests
{
    private static readonly BrokerManagementOptions LocalAnyPort = new() { Url = "http://127.0.0.1:0", SampleInterval = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task Stats_ShowTheWorkerWithItsServiceStatistics_AndTheCounters()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await using var management = new BrokerManagement(harness.Broker, LocalAnyPort);
        await management.StartAsync();
        var worker = await harness.StartWorkerAsync("pay", (d, r, _) => d.GetInt32() < 0 ? r.ErrorAsync("negative") : r.EndAsync(d));
        var client = await harness.StartClientAsync();
        for (var i = 0; i < 10; i++)
        {
            await client.RequestAsync<int>("pay", i, cancellationToken: Bounded.Token());
        }

        await Assert.ThrowsAsync<PigatoReplyException>(async () => await client.RequestAsync<int>("pay", -1, cancellationToken: Bounded.Token()));
        using var http = new HttpClient { BaseAddress = new Uri(management.Url!) };

        using var stats = JsonDocument.Parse(await http.GetStringAsync("/api/stats"));

        var root = stats.RootElement;
        Assert.Equal(harness.Broker.Name, root.GetProperty("broker").GetString());
        var pay = Assert.Single(root.GetProperty("workers").EnumerateArray(), w => w.GetProperty("service").GetString() == "pay");
        Assert.Equal(worker.Id, pay.GetProperty("id").GetString());
        Assert.Equal(11, pay.GetProperty("served").GetInt64());
        Assert.Equal(1, pay.GetProperty("errors").GetInt64());
        Assert.Equal("\"negative\"", pay.GetProperty("lastError").GetString());
        Assert.True(pay.GetProperty("p99Ms").GetDouble() > 0);
        Assert.Equal(11, root.GetProperty("counters").GetProperty("completed").GetInt64());
        Assert.Contains(root.GetProperty("services").EnumerateArray(), s => s.GetProperty("name").GetString() == "pay" && s.GetProperty("workers").GetInt32() == 1);
        Assert.Equal(harness.Broker.Options.MaxHeldBytes, root.GetProperty("limits").GetProperty("maxHeldBytes").GetInt64());
    }

    [Fact]
    public async Task Healthz_IsHealthyWhileTheBrokerRuns_AndUnavailableOnceItStopped()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await using var management = new BrokerManagement(harness.Broker, LocalAnyPort);
        await management.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(management.Url!) };

        using (var healthy = await http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
            Assert.Contains("\"healthy\"", await healthy.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await harness.Broker.StopAsync();

        using var stopped = await http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stopped.StatusCode);
        using var stats = await http.GetAsync("/api/stats");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stats.StatusCode);
    }

    [Fact]
    public async Task Metrics_ArePrometheusText_WithTheBrokersCounters()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await using var management = new BrokerManagement(harness.Broker, LocalAnyPort);
        await management.StartAsync();
        await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d));
        var client = await harness.StartClientAsync();
        await client.RequestAsync<int>("echo", 1, cancellationToken: Bounded.Token());
        using var http = new HttpClient { BaseAddress = new Uri(management.Url!) };

        var text = "";
        await Bounded.UntilAsync(async () =>
        {
            text = await http.GetStringAsync("/metrics");
            return text.Contains("pigato_broker_requests_completed_total{", StringComparison.Ordinal);
        }, "the completed counter in /metrics");

        Assert.Contains("# TYPE pigato_broker_requests_received_total counter", text, StringComparison.Ordinal);
        Assert.Contains($"pigato_broker=\"{harness.Broker.Name}\"", text, StringComparison.Ordinal);
        Assert.Contains("pigato_broker_workers{", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_AndEvents_CarryOneSamplePerInterval()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await using var management = new BrokerManagement(harness.Broker, LocalAnyPort);
        await management.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(management.Url!) };

        using var events = await http.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead, Bounded.Token());
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync(Bounded.Token()));
        var lines = new List<string>();
        var bound = Bounded.Token();
        while (lines.Count(l => l.StartsWith("data: ", StringComparison.Ordinal)) < 3)
        {
            lines.Add(await reader.ReadLineAsync(bound) ?? throw new InvalidOperationException("The event stream ended."));
        }

        Assert.Contains("event: stats", lines);
        var last = JsonDocument.Parse(lines.Last(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..]).RootElement;
        Assert.Equal(harness.Broker.Name, last.GetProperty("broker").GetString());
        Assert.Equal(JsonValueKind.Object, last.GetProperty("rates").ValueKind);
        using var history = JsonDocument.Parse(await http.GetStringAsync("/api/history"));
        Assert.True(history.RootElement.GetArrayLength() >= 1);
    }

    [Fact]
    public async Task WithAuthentication_EveryPathButHealthz_RequiresTheToken()
    {
        var permissions = Permissions.Parse("""{ "principals": { "anonymous": { "request": ["*"], "serve": ["*"] } } }""");
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { Permissions = permissions, AllowInsecureAuthenticationWithoutEncryption = true });
        await using var management = new BrokerManagement(harness.Broker, LocalAnyPort);
        await management.StartAsync();
        Assert.NotNull(management.Token);
        using var http = new HttpClient(new HttpClientHandler { UseCookies = true }) { BaseAddress = new Uri(management.Url!) };

        using (var refused = await http.GetAsync("/api/stats"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", new string('x', 48)) } })
        using (var refused = await http.SendAsync(wrong))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var health = await http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        using (var bearer = new HttpRequestMessage(HttpMethod.Get, "/api/stats") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", management.Token) } })
        using (var allowed = await http.SendAsync(bearer))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        // The dashboard is opened once with ?token=; its cookie lets the page's own requests through.
        using (var page = await http.GetAsync("/?token=" + management.Token))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        using var withCookie = await http.GetAsync("/api/history");
        Assert.Equal(HttpStatusCode.OK, withCookie.StatusCode);
    }

    [Theory]
    [InlineData("8080", "http://127.0.0.1:8080")]
    [InlineData(":9000", "http://127.0.0.1:9000")]
    [InlineData("0.0.0.0:8080", "http://0.0.0.0:8080")]
    [InlineData("http://localhost:1234", "http://localhost:1234")]
    public void Addresses_WithoutAHost_AreLoopback(string address, string url) =>
        Assert.Equal(url, BrokerManagementOptions.UrlOf(address));

    [Theory]
    [InlineData("eighty")]
    [InlineData("host:99999")]
    [InlineData("http://")]
    public void BadAddresses_AreRefused_Clearly(string address)
    {
        var error = Assert.Throws<ArgumentException>(() => BrokerManagementOptions.UrlOf(address));
        Assert.Contains("HOST:PORT", error.Message, StringComparison.Ordinal);
    }
}
