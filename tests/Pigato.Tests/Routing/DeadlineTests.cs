using System.Text.Json;
using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>A request's deadline in the broker core: counted from arrival, never dispatched past, carried on as what remains.</summary>
public class DeadlineTests
{
    [Fact]
    public void Queued_PastItsDeadline_IsNeverDispatched()
    {
        var h = new CoreHarness();
        h.Request("c1", "echo", "r1", options: "{\"deadline\":100}");
        h.Time.Advance(TimeSpan.FromMilliseconds(150));
        h.Ready("w1", "echo");

        Assert.Empty(h.Output.Of("request "));
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void Dispatched_CarriesTheBudgetThatRemains_AndTheRestOfItsOptions()
    {
        var h = new CoreHarness();
        h.Request("c1", "echo", "r1", options: "{\"deadline\":1000,\"retry\":1,\"user\":\"kept\"}");
        h.Time.Advance(TimeSpan.FromMilliseconds(300));
        h.Ready("w1", "echo");

        using var sent = JsonDocument.Parse(h.Output.OptionsSent["r1"]);
        Assert.Equal(700, sent.RootElement.GetProperty("deadline").GetInt64());
        Assert.Equal("kept", sent.RootElement.GetProperty("user").GetString());
        Assert.Equal(1, sent.RootElement.GetProperty("retry").GetInt32());
    }

    [Fact]
    public void WithoutADeadline_TheOptionsGoOnAsTheyCame()
    {
        var h = new CoreHarness();
        h.Request("c1", "echo", "r1", options: "{\"timeout\":5000}");
        h.Ready("w1", "echo");

        Assert.Equal("{\"timeout\":5000}", h.Output.OptionsSent["r1"]);
    }

    [Fact]
    public void Parse_ReadsTheDeadline_NegativeAsZero_NonNumbersAsNone()
    {
        Assert.Equal(250, BrokerRequestOptions.Parse("{\"deadline\":250.9}"u8).Deadline);
        Assert.Equal(0, BrokerRequestOptions.Parse("{\"deadline\":-5}"u8).Deadline);
        Assert.Equal(-1, BrokerRequestOptions.Parse("{\"deadline\":\"soon\"}"u8).Deadline);
        Assert.Equal(-1, BrokerRequestOptions.Parse("{}"u8).Deadline);
    }
}
