using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>
/// Poison-request quarantine through a real broker: raw workers take a <c>retry</c> request and vanish without a word
/// (as a process that crashes on it); after the second, the caller gets <c>ERR_POISON</c> and no third worker sees it.
/// </summary>
public class PoisonWireTests
{
    [Fact]
    public async Task ARequestThatTwoWorkersVanishWith_FailsWithErrPoison_AndIsListed()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100), Liveness = 3 });
        var client = await harness.StartClientAsync();
        var call = client.RequestAsync<string>("crashy", "bad input", new RequestOptions { Retry = true, Timeout = TimeSpan.FromSeconds(30) }, Bounded.Token()).AsTask();

        foreach (var (id, lostBefore) in new[] { ("crash-1", 0), ("crash-2", 1) })
        {
            var (worker, _) = await harness.RegisterRawWorkerAsync(id, "crashy", "{\"concurrency\":1}");
            using (worker)
            {
                // The handler sees how many workers were lost with this request before it (none: the field is absent).
                var options = worker.ReceiveMatching(0, "W", "2")[7];
                Assert.Equal(lostBefore > 0, options.Contains($"\"workersLost\":{lostBefore}", StringComparison.Ordinal));
            }

            // Gone without DISCONNECT: the broker finds out by its silence.
            await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).Workers == 0, $"the broker to purge {id}");
        }

        var error = await Assert.ThrowsAsync<PigatoBrokerException>(() => call.WithinAsync("the poison verdict"));
        Assert.Equal(PigatoErrorCodes.Poison, error.Code);
        var snapshot = await harness.Broker.GetSnapshotAsync();
        Assert.Equal("\"bad input\"", Assert.Single(snapshot.Poisoned).DataPrefix);
        Assert.Equal(1, snapshot.Counters.Poisoned);
    }
}
