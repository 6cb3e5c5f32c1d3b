using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Pigato.Persistence;
using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>The rules of <c>persist</c> requests on their own, over a request table, a journal and a recording output.</summary>
public class DurableRequestsTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingJournal _journal = new();
    private readonly RecordingOutput _output = new();
    private readonly RequestTable _requests;
    private readonly DurableRequests _durable;

    public DurableRequestsTests()
    {
        var dispatcher = new Dispatcher(DispatchMode.Load, new Random(1));
        _requests = new RequestTable(dispatcher, _journal, 2);
        _durable = new DurableRequests(_requests, dispatcher, _output, new BrokerOptions { MaxStoredRequests = 2 }, _time, new FakeLogger(), metrics: null);
    }

    private StoredRequest Stored(string rid, string client, TimeSpan age) =>
        new(CoreHarness.B(rid), CoreHarness.B(client), "pay", CoreHarness.B("1"), CoreHarness.B("{\"persist\":true}"), (_time.GetUtcNow() - age).ToUnixTimeMilliseconds());

    [Fact]
    public void NewRequests_AreRefused_WhileTheStoreIsDown_OrFull()
    {
        Assert.Null(_durable.Refusal());

        _journal.IsAvailable = false;
        Assert.Equal(PigatoErrorCodes.StoreUnavailable, _durable.Refusal()?.Code);

        _journal.IsAvailable = true;
        _durable.Restore([Stored("r1", "c", TimeSpan.Zero), Stored("r2", "c", TimeSpan.Zero)]);
        Assert.Equal(PigatoErrorCodes.StoreFull, _durable.Refusal()?.Code);
    }

    [Fact]
    public void ReadBack_KeepsTheirAge_SkipsThoseHeld_AndWaitsForTheirClient()
    {
        Assert.Equal(1, _durable.Restore([Stored("r1", "c", TimeSpan.FromSeconds(5))]));
        Assert.Equal(0, _durable.Restore([Stored("r1", "c", TimeSpan.FromSeconds(5))]));

        Assert.True(_requests.TryGetDurable(CoreHarness.B("r1"), out var request));
        Assert.Equal(TimeSpan.FromSeconds(5), _time.GetElapsedTime(request.ArrivedAt));
        Assert.Null(request.ReplyTo);
        Assert.Null(_durable.TakeOrphans(CoreHarness.B("other")));

        var orphans = _durable.TakeOrphans(CoreHarness.B("c"));

        Assert.Equal([request], orphans);
        Assert.Null(_durable.TakeOrphans(CoreHarness.B("c")));
    }

    [Fact]
    public void AKeptReply_GoesWhenItsClientReattaches_OnceItsRemovalIsDurable()
    {
        _durable.Restore([Stored("r1", "c", TimeSpan.Zero)]);
        _requests.TryGetDurable(CoreHarness.B("r1"), out var request);
        _requests.Park(request, [CoreHarness.B("0"), CoreHarness.B("\"done\""), CoreHarness.B("{}")], _time.GetTimestamp());

        _durable.Reattach(request, CoreHarness.B("c2"));

        Assert.Equal(["removed-before-reply r1"], _journal.Lines.Where(l => l.StartsWith("removed-before-reply", StringComparison.Ordinal)));
        Assert.Empty(_output.Of("kept-reply "));

        _durable.RemovalsDurable(_journal.Waiting);

        Assert.Equal(["kept-reply c2 r1"], _output.Of("kept-reply "));
        Assert.Equal(0, _requests.DurableCount);
    }

    [Fact]
    public void KeptReplies_OfClientsThatNeverCame_AreDroppedAfterTheWindow()
    {
        _durable.Restore([Stored("r1", "c", TimeSpan.Zero)]);
        _requests.TryGetDurable(CoreHarness.B("r1"), out var request);
        _requests.Park(request, [CoreHarness.B("0"), CoreHarness.B("1"), CoreHarness.B("{}")], _time.GetTimestamp());

        _time.Advance(new BrokerOptions().KeptReplyWindow + TimeSpan.FromSeconds(1));
        _durable.ExpireKeptReplies();

        Assert.Equal(0, _requests.DurableCount);
        Assert.Empty(_output.Sent);
    }
}
