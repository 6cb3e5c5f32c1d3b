using Microsoft.Extensions.Time.Testing;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>
/// A client's timeout rules on a fake clock (<see cref="ClientOptions.TimeProvider"/>), with a raw ROUTER playing the
/// broker: nothing waits on the wall clock; the test moves the client's clock and waits for what must follow.
/// </summary>
public class ClientClockTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    private async Task<Client> StartClientAsync(RawSocket broker)
    {
        // The raw broker answers no heartbeat: a large liveness keeps the client from reconnecting meanwhile.
        var client = new Client(new ClientOptions { Endpoint = broker.Endpoint, HeartbeatInterval = TimeSpan.FromMilliseconds(200), Liveness = 1000, TimeProvider = _clock });
        await client.StartAsync();
        return client;
    }

    [Fact]
    public async Task ATimeout_CountsOnTheClientsClock_RequestByRequest()
    {
        using var broker = RawSocket.Router();
        await using var client = await StartClientAsync(broker);
        var patient = client.RequestAsync<string>("svc", 1, new RequestOptions { Timeout = TimeSpan.FromSeconds(10) }).AsTask();
        var impatient = client.RequestAsync<string>("svc", 2, new RequestOptions { Timeout = TimeSpan.FromSeconds(5) }).AsTask();
        broker.ReceiveMatching(1, "C", "2", "svc");
        broker.ReceiveMatching(1, "C", "2", "svc");

        _clock.Advance(TimeSpan.FromSeconds(5));

        // One sweep fails every request past its time: the impatient one, and only it.
        var error = await Assert.ThrowsAsync<PigatoTimeoutException>(() => impatient.WithinAsync("the 5 s request to time out"));
        Assert.Contains("5000 ms", error.Message, StringComparison.Ordinal);
        Assert.False(patient.IsCompleted);
        Assert.Equal(1, client.PendingCount);

        _clock.Advance(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<PigatoTimeoutException>(() => patient.WithinAsync("the 10 s request to time out"));
    }

    [Fact]
    public async Task APartialReply_StartsTheTimeoutAgain_ButNotTheDeadline()
    {
        using var broker = RawSocket.Router();
        await using var client = await StartClientAsync(broker);
        var partial = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcome = new TaskCompletionSource<PigatoException?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var budgeted = client.RequestAsync<string>("svc", 2, new RequestOptions { Timeout = TimeSpan.FromSeconds(4), Deadline = TimeSpan.FromSeconds(6) }).AsTask();
        client.Request<string>("svc", 1, (_, _) => partial.TrySetResult(), (error, _) => outcome.TrySetResult(error), new RequestOptions { Timeout = TimeSpan.FromSeconds(4) });
        var budgetedRid = broker.ReceiveMatching(1, "C", "2", "svc")[4];
        var sent = broker.ReceiveMatching(1, "C", "2", "svc");

        _clock.Advance(TimeSpan.FromSeconds(3));
        broker.Send(sent[0], "C", "6", "", budgetedRid, "0", "\"part\"", "{}");
        broker.Send(sent[0], "C", "6", "", sent[4], "0", "\"part\"", "{}");

        // Handled in order on the client's loop: once the second partial arrived, the first did.
        await partial.Task.WithinAsync("the partial replies");
        _clock.Advance(TimeSpan.FromSeconds(3));

        // 3 s after the partial: within the streaming request's 4 s; past the budgeted one's 6 s deadline.
        var error = await Assert.ThrowsAsync<PigatoTimeoutException>(() => budgeted.WithinAsync("the budgeted request to time out"));
        Assert.Contains("6000 ms", error.Message, StringComparison.Ordinal);
        Assert.False(outcome.Task.IsCompleted);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(PigatoErrorCodes.Timeout, (await outcome.Task.WithinAsync("the streaming request to time out"))?.Code);
    }
}
