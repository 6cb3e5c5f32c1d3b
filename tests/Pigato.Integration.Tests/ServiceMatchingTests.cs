using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>Wildcard (<c>prefix*</c>) and semver (<c>name@1.2.3</c>) workers, through a real broker.</summary>
public class ServiceMatchingTests
{
    /// <summary>A worker that answers "registered-name|requested-name".</summary>
    private static Task<Worker> StartAsync(PigatoHarness harness, string service) =>
        harness.StartWorkerAsync(service, (_, reply, _) => reply.EndAsync(service + "|" + reply.Service));

    private static async Task<string?> AskAsync(Client client, string service) =>
        await client.RequestAsync<string>(service, null, cancellationToken: Bounded.Token());

    [Fact]
    public async Task Wildcard_ServesEveryNameWithItsPrefix_AndItsLiteralName()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await StartAsync(harness, "ech*");
        var client = await harness.StartClientAsync();

        Assert.Equal("ech*|echo", await AskAsync(client, "echo"));
        Assert.Equal("ech*|echelon", await AskAsync(client, "echelon"));
        Assert.Equal("ech*|ech", await AskAsync(client, "ech"));
        Assert.Equal("ech*|ech*", await AskAsync(client, "ech*"));
    }

    [Fact]
    public async Task Wildcard_ExactNameIsPreferred_AndLongestPrefixWins()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await StartAsync(harness, "ech*");
        await StartAsync(harness, "echo*");
        await StartAsync(harness, "echo");
        await StartAsync(harness, "echoes-and-more*");
        var client = await harness.StartClientAsync();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("echo|echo", await AskAsync(client, "echo"));
        }

        Assert.Equal("echo*|echoes", await AskAsync(client, "echoes"));
        Assert.Equal("ech*|echx", await AskAsync(client, "echx"));
    }

    [Fact]
    public async Task Wildcard_RequestQueuedBeforeTheWorkerRegisters_IsServed()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var client = await harness.StartClientAsync();
        var call = AskAsync(client, "report-daily");
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).QueuedRequests == 1, "the request is queued");

        await StartAsync(harness, "report*");

        Assert.Equal("report*|report-daily", await call.WithinAsync("the wildcard worker's answer"));
    }

    [Fact]
    public async Task Semver_ExactVersionAndRanges_HighestSatisfyingVersionPreferred()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await StartAsync(harness, "svc@1.2.3");
        await StartAsync(harness, "svc@1.4.0");
        await StartAsync(harness, "svc@2.0.0");
        var client = await harness.StartClientAsync();

        Assert.Equal("svc@1.2.3|svc@1.2.3", await AskAsync(client, "svc@1.2.3"));
        Assert.Equal("svc@1.4.0|svc@^1.2.x", await AskAsync(client, "svc@^1.2.x"));
        Assert.Equal("svc@1.2.3|svc@~1.2", await AskAsync(client, "svc@~1.2"));
        Assert.Equal("svc@1.4.0|svc@>=1.0.0 <2.0.0", await AskAsync(client, "svc@>=1.0.0 <2.0.0"));
        Assert.Equal("svc@2.0.0|svc@2.x", await AskAsync(client, "svc@2.x"));
    }

    [Fact]
    public async Task Semver_HighestVersionBusy_NextSatisfyingVersionServes()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.StartWorkerAsync("svc@1.4.0", async (_, reply, _) =>
        {
            await gate.Task;
            await reply.EndAsync("1.4.0");
        }, o => o with { Concurrency = 1 });
        await StartAsync(harness, "svc@1.2.3");
        var client = await harness.StartClientAsync();
        var held = client.RequestAsync<string>("svc@^1.0.0", null, cancellationToken: Bounded.Token()).AsTask();
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).InFlightRequests == 1, "the highest version holds a request");

        Assert.Equal("svc@1.2.3|svc@^1.0.0", await AskAsync(client, "svc@^1.0.0"));

        gate.SetResult();
        Assert.Equal("1.4.0", await held.WithinAsync("the held request"));
    }

    [Fact]
    public async Task Semver_NoSatisfyingVersion_WaitsForOne_OrExpires()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await StartAsync(harness, "svc@1.2.3");
        var client = await harness.StartClientAsync();

        await Assert.ThrowsAsync<PigatoTimeoutException>(() =>
            client.RequestAsync<string>("svc@^3.0.0", null, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) }).AsTask().WithinAsync("the timeout"));

        var waiting = AskAsync(client, "svc@^3.0.0");
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).QueuedRequests >= 1, "the request is queued");
        await StartAsync(harness, "svc@3.1.0");
        Assert.Equal("svc@3.1.0|svc@^3.0.0", await waiting.WithinAsync("the new version's answer"));
    }
}
