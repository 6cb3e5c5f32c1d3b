using Pigato.Cli;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>The <c>pigato</c> commands, run in-process with captured output.</summary>
public class CliTests
{
    private sealed class Run
    {
        private readonly StringWriter _out = new();
        private readonly StringWriter _err = new();

        public Run() => (Out, Err) = (TextWriter.Synchronized(_out), TextWriter.Synchronized(_err));

        public TextWriter Out { get; }

        public TextWriter Err { get; }

        // The synchronized writers lock on themselves: read under the same lock.
        public string Output
        {
            get
            {
                lock (Out)
                {
                    return _out.ToString();
                }
            }
        }

        public string Errors
        {
            get
            {
                lock (Err)
                {
                    return _err.ToString();
                }
            }
        }

        public Task<int> StartAsync(CancellationToken cancellationToken, params string[] args) => PigatoCli.RunAsync(args, Out, Err, cancellationToken);

        public Task<int> RunAsync(params string[] args) => PigatoCli.RunAsync(args, Out, Err, Bounded.Token());
    }


    [Theory]
    [InlineData("mongo:localhost")]
    [InlineData("redis:no-port")]
    [InlineData("sqlite:")]
    public async Task Broker_WithAStoreOfNoKnownKind_ExitsWith2_NamingTheKinds(string store)
    {
        var run = new Run();

        Assert.Equal(2, await run.RunAsync("broker", "--bind", Ports.FreeEndpoint(), "--intch", Ports.FreeEndpoint(), "--store", store));
        Assert.Contains("sqlite:PATH", run.Errors, StringComparison.Ordinal);
        Assert.Contains("redis:HOST:PORT", run.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broker_OnACorruptStoreFile_RefusesToStart_NamingTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pigato-corrupt-{Guid.NewGuid():N}.db");
        await File.WriteAllTextAsync(path, new string('x', 10_000));
        try
        {
            var run = new Run();
            Assert.Equal(1, await run.RunAsync("broker", "--bind", Ports.FreeEndpoint(), "--intch", Ports.FreeEndpoint(), "--store", "sqlite:" + path));
            Assert.Contains(path, run.Errors, StringComparison.Ordinal);
            Assert.Contains("corrupt", run.Errors, StringComparison.Ordinal);
            Assert.DoesNotContain("listening", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task BrokerHelp_NamesBothStoreKinds()
    {
        var run = new Run();

        Assert.Equal(0, await run.RunAsync("broker", "--help"));
        Assert.Contains("sqlite:PATH", run.Output, StringComparison.Ordinal);
        Assert.Contains("redis:HOST:PORT", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("request")]
    [InlineData("broker", "--liveness", "0")]
    [InlineData("broker", "--heartbeat", "soon")]
    [InlineData("broker", "--dmode", "fastest")]
    [InlineData("broker", "--max-held", "lots")]
    [InlineData("broker", "--max-client-pending", "0")]
    [InlineData("load", "echo", "--requests", "0")]
    [InlineData("load")]
    [InlineData("worker", "nosuch")]
    [InlineData("request", "echo", "--option", "novalue")]
    public async Task BadArguments_PrintUsage_AndExitWith2(params string[] args)
    {
        var run = new Run();

        Assert.Equal(2, await run.RunAsync(args));
        Assert.Contains("error:", run.Errors, StringComparison.Ordinal);
        Assert.Contains("Usage:", run.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_PrintsAJsonSummary_AndExits0WhenEveryRequestSucceeded()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("echo", Pigato.Examples.EchoService.HandleAsync);
        var run = new Run();

        Assert.Equal(0, await run.RunAsync("load", "echo", "\"hi\"", "--requests", "500", "--in-flight", "50", "--json", "--broker", harness.Endpoint));

        using var summary = System.Text.Json.JsonDocument.Parse(run.Output);
        var root = summary.RootElement;
        Assert.Equal(500, root.GetProperty("requests").GetInt32());
        Assert.Equal(500, root.GetProperty("ok").GetInt32());
        Assert.Equal(0, root.GetProperty("timeouts").GetInt32());
        Assert.Empty(root.GetProperty("failed").EnumerateObject());
        Assert.True(root.GetProperty("rps").GetDouble() > 0);
        Assert.True(root.GetProperty("p99_ms").GetDouble() >= root.GetProperty("p50_ms").GetDouble());
    }

    [Fact]
    public async Task Load_WithADuration_StopsSendingThenWaitsForTheRepliesOfThoseSent()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("echo", Pigato.Examples.EchoService.HandleAsync);
        var run = new Run();

        Assert.Equal(0, await run.RunAsync("load", "echo", "\"hi\"", "--requests", "100000000", "--duration", "1s", "--json", "--broker", harness.Endpoint));

        using var summary = System.Text.Json.JsonDocument.Parse(run.Output);
        var sent = summary.RootElement.GetProperty("requests").GetInt32();
        Assert.InRange(sent, 1, 99_999_999);
        Assert.Equal(sent, summary.RootElement.GetProperty("ok").GetInt32());
    }

    [Fact]
    public async Task Load_CountsFailuresByCode_AndExits1()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("flaky", (d, r, _) => d.GetInt32() % 2 == 0 ? r.EndAsync(d) : r.ErrorAsync("odd"));
        var run = new Run();

        // The same data for every request: all of them fail.
        Assert.Equal(1, await run.RunAsync("load", "flaky", "1", "--requests", "20", "--in-flight", "5", "--json", "--broker", harness.Endpoint));

        using var summary = System.Text.Json.JsonDocument.Parse(run.Output);
        Assert.Equal(20, summary.RootElement.GetProperty("failed").GetProperty("odd").GetInt32());
    }

    [Fact]
    public async Task Dir_WithTwoBrokers_ShowsTheUnion_AndMarksAWorkerMissingFromOne()
    {
        await using var first = await PigatoHarness.StartAsync(new BrokerOptions { EnableDirectory = true });
        await using var second = await PigatoHarness.StartAsync(new BrokerOptions { EnableDirectory = true });
        var both = new Worker(first.WorkerOptions("echo") with { Endpoint = null, Endpoints = [first.Endpoint, second.Endpoint] }, (d, r, _) => r.EndAsync(d));
        await first.StartWorkerAsync(both);
        var onlyFirst = await first.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d));
        await Bounded.UntilAsync(async () => (await second.Broker.GetStatsAsync()).Workers == 1, "the second broker has the shared worker");
        var run = new Run();

        Assert.Equal(0, await run.RunAsync("dir", "echo", "--broker", first.Endpoint, "--broker", second.Endpoint));

        Assert.Contains("broker 2: " + second.Endpoint, run.Output, StringComparison.Ordinal);
        Assert.Matches($@"echo\s+{both.Id![..^37]}\s+all", run.Output);
        Assert.Matches($@"echo\s+{onlyFirst.Id![..^37]}\s+1 \(missing from 2\)", run.Output);
    }

    [Fact]
    public async Task Usage_NamesTheCommandPigato()
    {
        var run = new Run();

        Assert.Equal(2, await run.RunAsync("request"));
        Assert.Contains("pigato request <service>", run.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("Pigato.Cli", run.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_FindsTheBenchmarkInTheCheckout_WithoutLinkingIt()
    {
        Assert.NotNull(Cli.Commands.BenchCommand.Find(AppContext.BaseDirectory));
        Assert.Null(Cli.Commands.BenchCommand.Find(Path.GetTempPath()));
        Assert.DoesNotContain(typeof(PigatoCli).Assembly.GetReferencedAssemblies(), a => a.Name == "Pigato.Perf");
    }

    [Fact]
    public async Task Request_PrintsPartialsThenFinal_AndDirPrintsTheTable()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { EnableDirectory = true });
        await harness.StartWorkerAsync(Worker.Create<Pigato.Examples.QuoteQuery>(harness.WorkerOptions("stocks"), Pigato.Examples.StocksService.HandleAsync));
        var echo = await harness.StartWorkerAsync("echo", Pigato.Examples.EchoService.HandleAsync);

        var request = new Run();
        Assert.Equal(0, await request.RunAsync("request", "stocks", "{\"ticker\":\"MSFT\",\"from\":\"2015-01-05\",\"to\":\"2015-01-06\"}", "--broker", harness.Endpoint));
        var lines = request.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("partial {\"ticker\":\"MSFT\",\"date\":\"2015-01-05\"", lines[0], StringComparison.Ordinal);
        Assert.Equal("2", lines[2].Trim());

        var options = new Run();
        Assert.Equal(0, await options.RunAsync("request", "echo", "plain words", "-b", harness.Endpoint, "-o", "tenant=acme", "--worker", echo.Id!));
        Assert.Equal("\"plain words\"", options.Output.Trim());

        var dir = new Run();
        Assert.Equal(0, await dir.RunAsync("dir", "--broker", harness.Endpoint));
        Assert.Matches($@"(?m)^echo\s+{System.Text.RegularExpressions.Regex.Escape(echo.Id!)}$", dir.Output);
        Assert.StartsWith("SERVICE", dir.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_FailWithoutWorkers_ExitsWith1AtOnce_NamingTheCode()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var run = new Run();

        Assert.Equal(1, await run.RunAsync("request", "nowhere", "1", "--fail-without-workers", "--timeout", "60s", "--broker", harness.Endpoint));
        Assert.Contains(PigatoErrorCodes.NoWorkers, run.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_ErrorReply_ExitsWith1AndSaysWhy()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("stocks", (_, r, _) => r.ErrorAsync("ERR_NO_TICKER"));
        var run = new Run();

        Assert.Equal(1, await run.RunAsync("request", "stocks", "{}", "--broker", harness.Endpoint));
        Assert.Contains("answered with an error: \"ERR_NO_TICKER\"", run.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_UnreachableBroker_ClearMessageAfterTimeout_NoStackTrace()
    {
        var run = new Run();

        Assert.Equal(1, await run.RunAsync("request", "echo", "1", "--timeout", "300ms", "--broker", Ports.FreeEndpoint()));
        Assert.Contains("error: no reply from 'echo' within 0.3 s (C_TIMEOUT)", run.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Errors + run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrokerAndWorkerCommands_ServeRequests_UntilCancelled()
    {
        var endpoint = Ports.FreeEndpoint();
        using var stop = new CancellationTokenSource(Bounded.Timeout);
        var broker = new Run();
        var brokerExit = broker.StartAsync(stop.Token, "broker", "--bind", endpoint, "--intch", Ports.FreeEndpoint(), "--heartbeat", "1s");
        await Bounded.UntilAsync(() => broker.Output.Contains("listening", StringComparison.Ordinal), "the broker command to listen");
        var worker = new Run();
        var workerExit = worker.StartAsync(stop.Token, "worker", "echo", "--broker", endpoint, "--concurrency", "5");
        await Bounded.UntilAsync(() => worker.Output.Contains("offers 'echo'", StringComparison.Ordinal), "the worker command to register");

        var request = new Run();
        Assert.Equal(0, await request.RunAsync("request", "echo", "[1,2]", "--broker", endpoint));
        Assert.Equal("[1,2]", request.Output.Trim());

        await stop.CancelAsync();
        Assert.Equal(0, await workerExit.WithinAsync("the worker command to stop"));
        Assert.Equal(0, await brokerExit.WithinAsync("the broker command to stop"));
        Assert.Contains("broker stopped", broker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keygen_ThenBrokerWorkerAndRequestWithCurve_Serve_AndAWrongKeyFileIsAClearError()
    {
        var keys = Path.Combine(Path.GetTempPath(), "pigato-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var keygen = new Run();
            Assert.Equal(0, await keygen.RunAsync("keygen", keys));
            Assert.Equal(1, await new Run().RunAsync("keygen", keys));

            var endpoint = Ports.FreeEndpoint();
            using var stop = new CancellationTokenSource(Bounded.Timeout);
            var broker = new Run();
            var brokerExit = broker.StartAsync(stop.Token, "broker", "--bind", endpoint, "--intch", Ports.FreeEndpoint(), "--heartbeat", "1s", "--curve-secret", keys + ".key_secret");
            await Bounded.UntilAsync(() => broker.Output.Contains("listening", StringComparison.Ordinal), "the broker command to listen");
            var worker = new Run();
            var workerExit = worker.StartAsync(stop.Token, "worker", "echo", "--broker", endpoint, "--curve-server", keys + ".key");
            await Bounded.UntilAsync(() => worker.Output.Contains("offers 'echo'", StringComparison.Ordinal), "the worker command to register");

            var request = new Run();
            Assert.Equal(0, await request.RunAsync("request", "echo", "\"sealed\"", "--broker", endpoint, "--curve-server", keys + ".key"));
            Assert.Equal("\"sealed\"", request.Output.Trim());
            var wrong = new Run();
            Assert.Equal(1, await wrong.RunAsync("request", "echo", "--broker", endpoint, "--curve-server", keys + ".key_missing"));
            Assert.Contains("error: Cannot read the key file", wrong.Errors, StringComparison.Ordinal);

            await stop.CancelAsync();
            Assert.Equal(0, await workerExit.WithinAsync("the worker command to stop"));
            Assert.Equal(0, await brokerExit.WithinAsync("the broker command to stop"));
        }
        finally
        {
            File.Delete(keys + ".key");
            File.Delete(keys + ".key_secret");
        }
    }

    [Fact]
    public async Task Token_PrintsATokenAndItsPermissionsEntry_AndPermissionsWithoutCurveAreRefused()
    {
        var token = new Run();
        Assert.Equal(0, await token.RunAsync("token", "billing-api"));
        var lines = token.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var secret = lines[0]["token:".Length..].Trim();
        var entry = lines[1][(lines[1].IndexOf('{', StringComparison.Ordinal))..].Trim();
        var permissions = Pigato.Security.Permissions.Parse($"{{\"principals\": {{\"billing-api\": {entry}}}}}");
        Assert.Equal("billing-api", permissions.Authenticate("billing-api", secret));

        var file = Path.Combine(Path.GetTempPath(), "pigato-cli-perm-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, "{\"principals\":{}}");
        try
        {
            var broker = new Run();
            Assert.Equal(2, await broker.RunAsync("broker", "--bind", Ports.FreeEndpoint(), "--permissions", file));
            Assert.Contains("plain text", broker.Errors, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Demo_CompletesWithinBound()
    {
        var run = new Run();

        Assert.Equal(0, await run.RunAsync("demo").WithinAsync("the demo", TimeSpan.FromSeconds(30)));
        Assert.Contains("demo finished", run.Output, StringComparison.Ordinal);
        Assert.Contains("C_TIMEOUT", run.Output, StringComparison.Ordinal);
        Assert.Contains("$dir", run.Output, StringComparison.Ordinal);
    }
    [Fact]
    public async Task DirStats_PrintsEachWorkersStatistics()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var pay = await harness.StartWorkerAsync("pay", (d, r, _) => d.GetInt32() < 0 ? r.ErrorAsync("declined") : r.EndAsync(d));
        var client = await harness.StartClientAsync();
        await client.RequestAsync<int>("pay", 1, cancellationToken: Bounded.Token());
        await Assert.ThrowsAsync<PigatoReplyException>(async () => await client.RequestAsync<int>("pay", -1, cancellationToken: Bounded.Token()));
        var run = new Run();

        Assert.Equal(0, await run.RunAsync("dir", "pay", "--stats", "--broker", harness.Endpoint));

        Assert.Matches(@"SERVICE\s+WORKER\s+REQUESTS\s+SERVED\s+ERRORS\s+IN FLIGHT\s+AVG MS\s+P99 MS\s+LAST ERROR", run.Output);
        Assert.Matches($@"pay\s+{pay.Id}\s+2\s+2\s+1\s+0/\d+\s+[\d.]+\s+[\d.]+\s+""declined""", run.Output);
    }

    [Fact]
    public async Task TopOnce_PrintsTheBrokersView_FromItsManagementEndpoint()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await using var management = new Management.BrokerManagement(harness.Broker, new Management.BrokerManagementOptions { Url = "http://127.0.0.1:0" });
        await management.StartAsync();
        await harness.StartWorkerAsync("quotes", (d, r, _) => r.EndAsync(d));
        var run = new Run();

        Assert.Equal(0, await run.RunAsync("top", "--http", management.Url!, "--once"));

        Assert.Contains("Pigato broker " + harness.Broker.Name, run.Output, StringComparison.Ordinal);
        Assert.Matches(@"quotes\s+0\s+0\s+1", run.Output);
        Assert.Contains("errors by code: none", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Top_WithoutAnEndpoint_Exits1_SayingWhatToRun()
    {
        var run = new Run();

        Assert.Equal(1, await run.RunAsync("top", "--http", Ports.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--once"));

        Assert.Contains("is a broker running with --http there?", run.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broker_WithHttp_ServesTheManagementEndpoint_AndRefusesABadAddress()
    {
        var bad = new Run();
        Assert.Equal(2, await bad.RunAsync("broker", "--bind", Ports.FreeEndpoint(), "--intch", Ports.FreeEndpoint(), "--http", "nowhere"));
        Assert.Contains("HOST:PORT", bad.Errors, StringComparison.Ordinal);

        using var stop = new CancellationTokenSource();
        var run = new Run();
        var port = Ports.FreePort();
        var broker = run.StartAsync(stop.Token, "broker", "--bind", Ports.FreeEndpoint(), "--intch", Ports.FreeEndpoint(), "--http", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Bounded.UntilAsync(() => run.Output.Contains("management endpoint on", StringComparison.Ordinal) || broker.IsCompleted, "the management endpoint to listen");
        using var http = new HttpClient();
        var health = await http.GetStringAsync($"http://127.0.0.1:{port}/healthz");
        await stop.CancelAsync();

        Assert.Equal(0, await broker.WithinAsync("the broker to stop"));
        Assert.Contains("healthy", health, StringComparison.Ordinal);
    }
}
