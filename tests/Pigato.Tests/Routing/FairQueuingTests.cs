using Pigato.Routing;
using Pigato.Security;
using static Pigato.Tests.Routing.CoreHarness;

namespace Pigato.Tests.Routing;

/// <summary>A service's waiting requests are shared among the clients that sent them: lanes taking turns, FIFO within one.</summary>
public class FairQueuingTests
{
    /// <summary>The order in which the worker got the requests, serving them one at a time.</summary>
    private static List<string> ServedOneAtATime(CoreHarness h, string worker, int count)
    {
        var order = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var rid = h.Output.Of($"request {worker} ")[i].Split(' ')[2];
            order.Add(rid);
            h.Final(worker, rid[..1] == "b" ? "b" : rid[..1] == "c" ? "c" : "a", rid);
        }

        return order;
    }

    private static void Flood(CoreHarness h)
    {
        h.Ready("w", "svc", 1);
        for (var i = 1; i <= 4; i++)
        {
            h.Request("a", "svc", "a" + i);
        }

        h.Request("b", "svc", "b1");
        h.Request("b", "svc", "b2");
    }

    [Fact]
    public void AClientsFlood_DoesNotMakeAnotherClientWaitBehindIt_AndEachClientIsServedInOrder()
    {
        var h = new CoreHarness();
        Flood(h);

        // a1 went at once; from then on the two clients take turns (round robin), each in its own order.
        Assert.Equal(["a1", "a2", "b1", "a3", "b2", "a4"], ServedOneAtATime(h, "w", 6));
    }

    [Fact]
    public void WithoutFairQueuing_TheQueueIsOneFifo_AsInPigato()
    {
        var h = new CoreHarness(new BrokerOptions { Liveness = 3, FairQueuing = FairQueuing.None });
        Flood(h);

        Assert.Equal(["a1", "a2", "a3", "a4", "b1", "b2"], ServedOneAtATime(h, "w", 6));
    }

    [Fact]
    public void ARequestGivenBack_IsNextAgain_AtTheHeadOfItsClientsLane()
    {
        var h = new CoreHarness();
        h.Ready("w1", "svc", 1);
        h.Request("a", "svc", "a1", "{\"retry\":1}");
        h.Request("a", "svc", "a2");
        h.Request("b", "svc", "b1");

        h.Core.WorkerDisconnect(B("w1"));
        h.Ready("w2", "svc", 1);

        // Back at the head of its client's lane, whose turn comes first: before a2, and before b1.
        Assert.Equal(["request w1 a1", "request w2 a1"], h.Output.Of("request "));
    }

    [Fact]
    public void ARequestForOneParticularWorker_IsSkippedNotWaitedOn_AndOtherClientsGoMeanwhile()
    {
        var h = new CoreHarness();
        h.Ready("w1", "svc", 1);
        h.Ready("w2", "svc", 1);
        h.Request("a", "svc", "a1", "{\"workerId\":\"w2\"}");
        h.Request("a", "svc", "a2", "{\"workerId\":\"w2\"}");
        h.Request("b", "svc", "b1");

        Assert.Equal("w2", h.WorkerOf("a1"));
        Assert.Equal("w1", h.WorkerOf("b1"));
        Assert.Null(h.WorkerOf("a2"));
        Assert.Equal(1, h.Core.Stats().QueuedRequests);
    }

    [Fact]
    public void PerPrincipal_ClientsOfOnePrincipalShareATurn()
    {
        var (token, hash) = Permissions.NewToken();
        var permissions = Permissions.Parse($$"""
            { "principals": {
                "batch": { "tokenHash": "{{hash}}", "request": ["svc"] },
                "anonymous": { "request": ["svc"], "serve": ["svc"] } } }
            """);
        var h = new CoreHarness(new BrokerOptions { Liveness = 3, FairQueuing = FairQueuing.PerPrincipal, Permissions = permissions, AllowInsecureAuthenticationWithoutEncryption = true });
        h.Hello("a", "batch", token);
        h.Hello("b", "batch", token);
        h.Ready("w", "svc", 1);
        h.Request("a", "svc", "a1");
        h.Request("a", "svc", "a2");
        h.Request("b", "svc", "b1");
        h.Request("c", "svc", "c1");

        // a and b are one principal, one lane (a2 then b1, in arrival order); the anonymous c takes turns with it.
        Assert.Equal(["a1", "a2", "c1", "b1"], ServedOneAtATime(h, "w", 4));
    }

    [Fact]
    public void APrincipalsWeight_IsItsTurnsInARow()
    {
        var (token, hash) = Permissions.NewToken();
        var permissions = Permissions.Parse($$"""
            { "principals": {
                "batch": { "tokenHash": "{{hash}}", "request": ["svc"], "weight": 3 },
                "anonymous": { "request": ["svc"], "serve": ["svc"] } } }
            """);
        var h = new CoreHarness(new BrokerOptions { Liveness = 3, Permissions = permissions, AllowInsecureAuthenticationWithoutEncryption = true });
        h.Hello("a", "batch", token);
        h.Ready("w", "svc", 1);
        h.Request("c", "svc", "c0");
        for (var i = 1; i <= 6; i++)
        {
            h.Request("a", "svc", "a" + i);
        }

        h.Request("c", "svc", "c1");
        h.Request("c", "svc", "c2");

        // c0 went at once; then the weighted client has three turns for each of the other's.
        Assert.Equal(["c0", "a1", "a2", "a3", "c1", "a4", "a5", "a6", "c2"], ServedOneAtATime(h, "w", 9));
    }

    [Fact]
    public void AWeightOutOfRange_IsRefused_NamingThePrincipal()
    {
        var error = Assert.Throws<System.Text.Json.JsonException>(() => Permissions.Parse("""{ "principals": { "anonymous": { "weight": 0 } } }"""));
        Assert.Contains("'anonymous'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpiredRequests_LeaveEveryLane()
    {
        var h = new CoreHarness();
        h.Request("a", "svc", "a1", "{\"timeout\":1000}");
        h.Request("b", "svc", "b1", "{\"timeout\":5000}");
        h.Time.Advance(TimeSpan.FromSeconds(2));
        h.Core.Tick();

        Assert.Equal(1, h.Core.Stats().QueuedRequests);
        h.Ready("w", "svc", 1);
        Assert.Equal("w", h.WorkerOf("b1"));
    }
}
