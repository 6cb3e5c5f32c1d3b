using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>The broker's limits: every refusal is an error reply with its own code, and nothing accepted is dropped.</summary>
public class BrokerLimitsTests
{
    private static readonly string Kilobyte = "\"" + new string('x', 1000) + "\"";

    [Fact]
    public void MemoryBudget_RefusesNewRequests_WithBrokerFull_AndKeepsTheAccepted()
    {
        var h = new CoreHarness(new BrokerOptions { MaxHeldBytes = 10 * (1000 + 512) });
        for (var i = 0; i < 20; i++)
        {
            h.Request("c" + i, "slow", "r" + i, data: Kilobyte);
        }

        var refused = h.Output.Of("error ");
        Assert.NotEmpty(refused);
        Assert.All(refused, line => Assert.EndsWith(PigatoErrorCodes.BrokerFull, line, StringComparison.Ordinal));
        var held = h.Core.Stats();
        Assert.Equal(20 - refused.Length, held.QueuedRequests);
        Assert.True(held.HeldBytes <= h.Options.MaxHeldBytes);

        h.Ready("w", "slow", -1);
        Assert.Equal(held.QueuedRequests, h.Output.Of("request w").Length);
    }

    [Fact]
    public void PendingPerClient_IsLimited_OtherClientsAreServed()
    {
        var h = new CoreHarness(new BrokerOptions { MaxPendingPerClient = 3 });
        for (var i = 0; i < 5; i++)
        {
            h.Request("greedy", "svc", "r" + i);
        }

        h.Request("polite", "svc", "p");

        Assert.Equal([$"error greedy r3 {PigatoErrorCodes.ClientPendingLimit}", $"error greedy r4 {PigatoErrorCodes.ClientPendingLimit}"], h.Output.Of("error "));
        Assert.Equal(4, h.Core.Stats().QueuedRequests);
    }

    [Fact]
    public void BytesPerClient_IsLimited()
    {
        var h = new CoreHarness(new BrokerOptions { MaxBytesPerClient = 3 * (1000 + 512) });
        for (var i = 0; i < 5; i++)
        {
            h.Request("big", "svc", "r" + i, data: Kilobyte);
        }

        Assert.Equal(2, h.Output.Of($"error big").Count(line => line.EndsWith(PigatoErrorCodes.ClientBytesLimit, StringComparison.Ordinal)));
    }

    [Fact]
    public void BytesPerClient_CountsTheRepliesWaitingForIt()
    {
        var h = new CoreHarness(new BrokerOptions { MaxBytesPerClient = 3 * (1000 + 512) });
        h.Output.QueuedFor["reads-nothing"] = 2 * (1000 + 512);
        h.Request("reads-nothing", "svc", "r0", data: Kilobyte);
        h.Request("reads-nothing", "svc", "r1", data: Kilobyte);
        h.Request("reads", "svc", "r2", data: Kilobyte);
        h.Request("reads", "svc", "r3", data: Kilobyte);

        Assert.Equal([$"error reads-nothing r1 {PigatoErrorCodes.ClientBytesLimit}"], h.Output.Of("error "));
        var line = h.Logger.Collector.LatestRecord.Message;
        Assert.Contains("refused reads-nothing (from 10.0.0.1:4242)", line, StringComparison.Ordinal);
        Assert.Contains("principal 'anonymous'", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Worker_HoldingTooManyBytes_IsBusy_WhateverItsConcurrency()
    {
        var h = new CoreHarness(new BrokerOptions { MaxInFlightBytesPerWorker = 2500 });
        h.Ready("w", "svc", -1);
        for (var i = 0; i < 5; i++)
        {
            h.Request("c", "svc", "r" + i, data: Kilobyte);
        }

        // Each request holds its data plus its overhead (over 1,000 bytes): two fit under 2,500, the second takes it past.
        Assert.Equal(["request w r0", "request w r1"], h.Output.Of("request w"));
        h.Final("w", "c", "r0");
        Assert.Equal(["request w r0", "request w r1", "request w r2"], h.Output.Of("request w"));
    }

    [Fact]
    public void Worker_HoldingNothing_GetsARequestLargerThanItsByteShare()
    {
        var h = new CoreHarness(new BrokerOptions { MaxInFlightBytesPerWorker = 100 });
        h.Ready("w", "svc", -1);
        h.Request("c", "svc", "big", data: Kilobyte);
        h.Request("c", "svc", "next", data: Kilobyte);

        Assert.Equal(["request w big"], h.Output.Of("request w"));
        h.Final("w", "c", "big");
        Assert.Equal(["request w big", "request w next"], h.Output.Of("request w"));
    }

    [Fact]
    public void ServiceQueue_IsLimited_OtherServicesQueue()
    {
        var h = new CoreHarness(new BrokerOptions { MaxQueuedPerService = 2 });
        h.Request("c", "busy", "a");
        h.Request("c", "busy", "b");
        h.Request("c", "busy", "c");
        h.Request("c", "other", "d");

        Assert.Equal([$"error c c {PigatoErrorCodes.ServiceQueueFull}"], h.Output.Of("error "));
        Assert.Equal(3, h.Core.Stats().QueuedRequests);
    }

    [Fact]
    public void LongServiceName_AndLongRid_AreRefused_WithFrameTooLong()
    {
        var h = new CoreHarness(new BrokerOptions { MaxServiceNameLength = 8, MaxRidLength = 8 });
        h.Request("c", "a-very-long-service", "r1");
        h.Request("c", "svc", "a-very-long-rid");

        Assert.Equal([$"error c r1 {PigatoErrorCodes.FrameTooLong}", $"error c a-very-long-rid {PigatoErrorCodes.FrameTooLong}"], h.Output.Of("error "));
        Assert.Equal(BrokerStats.Empty, h.Core.Stats());
    }

    [Fact]
    public void OversizedRequest_IsRefused_WithMessageTooLarge()
    {
        var h = new CoreHarness(new BrokerOptions { MaxMessageSize = 1024 });
        h.Request("c", "svc", "big", data: "\"" + new string('x', 2000) + "\"");
        h.Request("c", "svc", "small");

        Assert.Equal([$"error c big {PigatoErrorCodes.MessageTooLarge}"], h.Output.Of("error "));
        Assert.Equal(1, h.Core.Stats().QueuedRequests);
    }

    [Fact]
    public void OversizedReply_DisconnectsTheWorker_AndFailsThatRequest()
    {
        var h = new CoreHarness();
        h.Ready("w", "svc", 5);
        h.Request("c", "svc", "r", options: "{\"retry\":1}");

        h.Core.WorkerOversized(CoreHarness.B("w"), CoreHarness.B("c"), CoreHarness.B("r"), 10_000_000);

        Assert.Equal([$"error c r {PigatoErrorCodes.MessageTooLarge}"], h.Output.Of("error "));
        Assert.Contains("disconnect w", h.Output.Sent);
        Assert.Equal(new BrokerStats { Services = 1 }, h.Core.Stats());
    }

    [Fact]
    public void ClientThatHeartbeatsThenFallsSilent_LosesItsQueuedRequests_WithAnErrorReply_AHeartbeatingOneKeepsThem()
    {
        var h = new CoreHarness(new BrokerOptions { HeartbeatInterval = TimeSpan.FromSeconds(1), Liveness = 3 });
        h.ClientHeartbeat("silent");
        h.Request("silent", "nobody", "s", "{\"timeout\":-1}");
        h.Request("alive", "nobody", "a", "{\"timeout\":-1}");

        for (var i = 0; i < 4; i++)
        {
            h.ClientHeartbeat("alive");
            h.Tick();
        }

        Assert.Contains($"error silent s {PigatoErrorCodes.ClientLost}", h.Output.Sent);
        h.Ready("w", "nobody", 5);
        Assert.Equal(["request w a"], h.Output.Of("request "));
        Assert.Equal(1, h.Core.Stats().Clients);
    }

    [Fact]
    public void ClientThatNeverHeartbeats_KeepsItsQueuedRequests_UntilTheirOwnTimeout()
    {
        // PIGATO-GO's and PIGATO-RUBY's clients never send C, 4: their silence says nothing.
        var h = new CoreHarness(new BrokerOptions { HeartbeatInterval = TimeSpan.FromSeconds(1), Liveness = 3 });
        h.Request("go", "late", "waits", "{\"timeout\":12000}");
        h.Request("go", "late", "expires", "{\"timeout\":5000}");

        for (var i = 0; i < 10; i++)
        {
            h.Tick();
        }

        Assert.Empty(h.Output.Of("error "));
        h.Ready("w", "late", 5);
        Assert.Equal(["request w waits"], h.Output.Of("request "));
    }

    [Fact]
    public void RequestHeldPastItsTimeoutAtAWorker_FreesTheSlot_AndALateReplyIsNoViolation()
    {
        var h = new CoreHarness(new BrokerOptions { HeartbeatInterval = TimeSpan.FromSeconds(1), Liveness = 3 });
        h.Ready("w", "svc", 1);
        h.Request("c", "svc", "lost", "{\"timeout\":1000}");
        h.Request("c", "svc", "next", "{\"timeout\":60000}");
        Assert.Null(h.WorkerOf("next"));

        for (var i = 0; i < 5; i++)
        {
            h.Heartbeat("w");
            h.ClientHeartbeat("c");
            h.Tick();
        }

        Assert.Equal("w", h.WorkerOf("next"));
        h.Final("w", "c", "lost");
        Assert.DoesNotContain("disconnect w", h.Output.Sent);
        Assert.Contains($"{PigatoErrorCodes.WorkerTimeout} w", h.Output.Errors);
        Assert.Equal(1, h.Core.Stats().Workers);
    }

    [Fact]
    public void EveryRefusal_LeavesNothingHeld()
    {
        var h = new CoreHarness(new BrokerOptions { MaxPendingPerClient = 1, MaxQueuedPerService = 1, MaxMessageSize = 1024 });
        h.Request("c", "svc", "1");
        h.Request("c", "svc", "2");
        h.Request("d", "svc", "3");
        h.Request("e", "svc", "4", data: "\"" + new string('x', 2000) + "\"");
        h.Ready("w", "svc", 5);
        h.Final("w", "c", "1");

        Assert.Equal(new BrokerStats { Workers = 1, Services = 1 }, h.Core.Stats());
    }
}

/// <summary>A worker that reads slower than it is sent to is busy, not lost.</summary>
public class BusyWorkerTests
{
    [Fact]
    public void WorkerWithAFullPipe_IsBusy_NotLost_UntilItsQueueDrains()
    {
        var h = new CoreHarness();
        h.Ready("w1", "svc", 10);
        h.Ready("w2", "svc", 10);
        h.Output.Full.Add("w1");

        h.Request("c", "svc", "r1");
        h.Request("c", "svc", "r2");
        h.Request("c", "svc", "r3");

        // r1 went into w1's queue (w1 busy from then on); the rest to w2. Nobody was failed or dropped.
        Assert.Equal(["request w2 r2", "request w2 r3"], h.Output.Of("request "));
        Assert.Equal(new BrokerStats { Workers = 2, Services = 1, InFlightRequests = 3, TrackedRequests = 3 }, h.Core.Stats() with { HeldBytes = 0, Clients = 0 });
        Assert.Empty(h.Output.Of("error "));

        h.Output.Full.Remove("w1");
        h.Core.PeerDrained(CoreHarness.B("w1"));
        h.Request("c", "svc", "r4");
        h.Request("c", "svc", "r5");
        Assert.Contains("request w1 r4", h.Output.Sent);
    }

    [Fact]
    public void SlowConsumerWorker_IsDisconnected_ItsRetryRequestsGoElsewhere()
    {
        var h = new CoreHarness();
        h.Ready("w1", "svc", 10);
        h.Output.Full.Add("w1");
        h.Request("c", "svc", "r", "{\"retry\":1}");

        h.Core.SlowConsumer(CoreHarness.B("w1"), 1);
        h.Ready("w2", "svc", 10);

        Assert.Contains("disconnect w1", h.Output.Sent);
        Assert.Equal("w2", h.WorkerOf("r"));
    }
}

/// <summary>A worker whose concurrency is shared by several brokers rejects what it cannot take; that rejection is soft.</summary>
public class SharedBudgetTests
{
    [Fact]
    public void BusyRejection_GoesToAnotherWorker_AndTheBusyOneTakesWorkAgainAfterItsHeartbeat()
    {
        var h = new CoreHarness();
        h.Ready("w1", "svc", 10);
        h.Request("c", "svc", "r1");
        h.Core.WorkerReject(CoreHarness.B("w1"), CoreHarness.B("c"), CoreHarness.B("r1"), "\"ERR_WORKER_BUSY\""u8);

        // w1 counts as full now, not as a rejecter: a second worker takes r1, and w1 takes work after its heartbeat.
        h.Ready("w2", "svc", 10);
        Assert.Equal("w2", h.WorkerOf("r1"));
        h.Request("c", "svc", "r2");
        Assert.Equal("w2", h.WorkerOf("r2"));
        h.Heartbeat("w1", 10);
        h.Request("c", "svc", "r3");
        Assert.Equal("w1", h.WorkerOf("r3"));
        Assert.Empty(h.Output.Of("error "));
    }
}
