using System.Text.Json;
using Pigato.Tests.Routing;

namespace Pigato.Tests.Monitoring;

/// <summary>The broker's snapshot and its <c>$stats</c> service, on the core with a fake clock.</summary>
public class BrokerSnapshotTests
{
    [Fact]
    public void WorkerStatistics_CountRequestsRepliesErrorsAndRejections_WithProcessingTimeFromDispatch()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 10);
        h.Request("c", "echo", "r1");
        h.Time.Advance(TimeSpan.FromMilliseconds(20));
        h.Final("w1", "c", "r1");
        h.Request("c", "echo", "r2");
        h.Error("w1", "c", "r2", "\"card declined\"");
        h.Ready("w2", "echo", 10);
        h.Request("c", "echo", "r3");
        h.Reject(h.WorkerOf("r3")!, "c", "r3");

        var snapshot = h.Core.Snapshot("b", 100);

        var w1 = Assert.Single(snapshot.Workers, w => w.Id == "w1");
        Assert.Equal(2 + (h.WorkerOf("r3") == "w1" ? 1 : 0), w1.Requests);
        Assert.Equal(2, w1.Served);
        Assert.Equal(1, w1.Errors);
        Assert.Equal("\"card declined\"", w1.LastError);
        Assert.InRange(w1.ProcessingTime.Percentile(0.99).TotalMilliseconds, 20, 20 * 1.34);
        Assert.Equal(1, snapshot.Workers.Sum(w => w.Rejected));
        Assert.Equal(1, snapshot.Workers.Sum(w => w.InFlight));
        Assert.Equal(h.Time.GetUtcNow(), w1.LastHeard);
        Assert.Equal(2, snapshot.RequestDuration.Count);
        Assert.Equal(3, snapshot.Counters.Received);
        Assert.Equal(2, snapshot.Counters.Completed);
        Assert.Equal(1, snapshot.Counters.Rejected);
    }

    [Fact]
    public void Lists_HoldTheBusiestFirst_AtMostTheNumberAskedFor()
    {
        var h = new CoreHarness();
        h.Ready("w", "quiet", 10);
        h.Request("c1", "busy", "r1");
        h.Request("c1", "busy", "r2");
        h.Request("c2", "busy", "r3");
        h.Request("c2", "other", "r4");
        h.Request("c2", "other", "r5");
        h.Request("c2", "other", "r6");
        h.Request("c2", "other", "r7");

        var snapshot = h.Core.Snapshot("b", 2);

        Assert.Equal(["other", "busy"], snapshot.Services.Select(s => s.Name));
        Assert.Equal(4, snapshot.Services[0].Queued);
        Assert.Equal(["c2", "c1"], snapshot.Clients.Select(c => c.Id));
        Assert.Equal(5, snapshot.Clients[0].Pending);
        Assert.Equal(3, snapshot.Stats.Services);
    }

    [Fact]
    public void Counters_CountTheBrokersOwnErrorsByCode_ExpiriesAsTimeouts()
    {
        var h = new CoreHarness(new BrokerOptions { MaxMessageSize = 64 });
        h.Request("c", "echo", "r1", data: "\"" + new string('x', 100) + "\"");
        h.Request("c", "echo", "r2", data: "\"" + new string('x', 100) + "\"");
        h.Request("c", "nobody", "r3", options: "{\"timeout\":100}");
        h.Time.Advance(TimeSpan.FromMilliseconds(200));
        h.Core.Tick();

        var counters = h.Core.Snapshot("b", 10).Counters;

        Assert.Equal(2, counters.Refused);
        Assert.Equal(2, counters.Errors[PigatoErrorCodes.MessageTooLarge]);
        Assert.Equal(1, counters.Expired);
        Assert.Equal(1, counters.Errors[PigatoErrorCodes.Timeout]);
        Assert.Equal(1, counters.Received);
    }

    [Fact]
    public void Stats_ForOneService_AnswersItsWorkers_AsAnArray()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 10);
        h.Ready("w2", "other", 10);
        h.Request("c", "echo", "r1");
        h.Time.Advance(TimeSpan.FromMilliseconds(4));
        h.Final("w1", "c", "r1");

        h.Request("c", "$stats", "s1", data: "\"echo\"");

        Assert.Equal(["reply c s1"], h.Output.Of("reply "));
        var workers = JsonDocument.Parse(Assert.Single(h.Output.Replies)).RootElement;
        var w1 = Assert.Single(workers.EnumerateArray());
        Assert.Equal("w1", w1.GetProperty("id").GetString());
        Assert.Equal(1, w1.GetProperty("requests").GetInt64());
        Assert.Equal(1, w1.GetProperty("served").GetInt64());
        Assert.Equal(0, w1.GetProperty("errors").GetInt64());
        Assert.InRange(w1.GetProperty("p99Ms").GetDouble(), 4, 4 * 1.34);
        Assert.Equal(4, w1.GetProperty("averageMs").GetDouble(), 3);
        Assert.Equal(JsonValueKind.Null, w1.GetProperty("lastError").ValueKind);
    }

    [Fact]
    public void Stats_WithNoData_AnswersEveryWorker_ByService_AndIsNotARequestOfAWorker()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 10);
        h.Ready("w2", "other", 10);

        h.Request("c", "$stats", "s1", data: "");

        var services = JsonDocument.Parse(Assert.Single(h.Output.Replies)).RootElement;
        Assert.Equal(["echo", "other"], services.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
        Assert.Empty(h.Output.Of("request "));
    }

    [Fact]
    public void Stats_WithDataThatIsNotAServiceName_IsRefused_AsInvalid()
    {
        var h = new CoreHarness();

        h.Request("c", "$stats", "s1", data: "{\"service\":1}");

        Assert.Equal([$"error c s1 {PigatoErrorCodes.RequestInvalid}"], h.Output.Of("error "));
        Assert.Empty(h.Output.Replies);
    }
}
