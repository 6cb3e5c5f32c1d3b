using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>Spans of one request across client, broker and worker, collected with OpenTelemetry's in-memory exporter.</summary>
[Collection(SerialTests.Name)]
public class TracingTests
{
    [Fact]
    public async Task OneRequest_ClientBrokerAndWorkerSpans_ShareOneTrace_AndAreParentedInOrder()
    {
        var spans = new List<Activity>();
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(Broker.ActivitySourceName).AddInMemoryExporter(spans).Build())
        {
            await using var harness = await PigatoHarness.StartAsync();
            await harness.StartWorkerAsync("echo", async (d, r, _) =>
            {
                // The handler runs inside the worker's span: its own spans nest under it.
                Assert.Equal("process echo", Activity.Current?.DisplayName);
                await r.EndAsync(d);
            });
            var client = await harness.StartClientAsync();

            Assert.Equal("traced", await client.RequestAsync<string>("echo", "traced", cancellationToken: Bounded.Token()));
            await Bounded.UntilAsync(() => { lock (spans) { return spans.Count >= 3; } }, "the three spans are exported");
            tracing.ForceFlush();
        }

        var send = Assert.Single(spans, s => s.DisplayName == "send echo");
        var receive = Assert.Single(spans, s => s.DisplayName == "receive echo");
        var process = Assert.Single(spans, s => s.DisplayName == "process echo");
        Assert.Equal(ActivityKind.Client, send.Kind);
        Assert.All([receive, process], s => Assert.Equal(send.TraceId, s.TraceId));
        Assert.Equal(send.SpanId, receive.ParentSpanId);
        Assert.Equal(receive.SpanId, process.ParentSpanId);
        Assert.Contains(receive.Events, e => e.Name == "dispatched");
        Assert.Equal("pigato", send.GetTagItem("messaging.system"));
        Assert.Equal("echo", process.GetTagItem("messaging.destination.name"));
    }

    [Fact]
    public async Task WithTheWorkerInAnotherProcess_ItsSpanJoinsTheTrace_UnderTheBrokersSpan()
    {
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(Broker.ActivitySourceName).AddInMemoryExporter(spans).Build();
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await PigatoProcess.StartWorkerAsync(harness.Endpoint, "echo", "--trace");
        var client = await harness.StartClientAsync();

        Assert.Equal("across", await client.RequestAsync<string>("echo", "across", cancellationToken: Bounded.Token()));

        // The worker process prints its spans with OpenTelemetry's console exporter.
        Dictionary<string, string>? process = null;
        await Bounded.UntilAsync(() => (process = ConsoleSpans(worker.Output).LastOrDefault(s => s.GetValueOrDefault("DisplayName") == "process echo" && s.ContainsKey("ParentSpanId"))) is not null, "the worker process to print its span");
        tracing.ForceFlush();
        Activity send, receive;
        lock (spans)
        {
            send = Assert.Single(spans, s => s.DisplayName == "send echo");
            receive = Assert.Single(spans, s => s.DisplayName == "receive echo");
        }

        Assert.Equal(send.TraceId.ToHexString(), process!["TraceId"]);
        Assert.Equal(receive.SpanId.ToHexString(), process["ParentSpanId"]);
        Assert.Equal(send.SpanId, receive.ParentSpanId);
    }

    /// <summary>The spans in the console exporter's output: one dictionary of <c>Activity.Name: value</c> lines per span.</summary>
    private static List<Dictionary<string, string>> ConsoleSpans(IEnumerable<string> lines)
    {
        var spans = new List<Dictionary<string, string>>();
        foreach (var line in lines)
        {
            var trimmed = line.Trim();
            if (!trimmed.StartsWith("Activity.", StringComparison.Ordinal) || trimmed.IndexOf(':', StringComparison.Ordinal) is var colon && colon < 0)
            {
                continue;
            }

            var key = trimmed["Activity.".Length..colon];
            if (key == "TraceId")
            {
                spans.Add([]);
            }

            if (spans.Count > 0)
            {
                spans[^1][key] = trimmed[(colon + 1)..].Trim();
            }
        }

        return spans;
    }

    [Fact]
    public async Task AFailedRequest_EndsTheClientSpanWithTheErrorCode()
    {
        var spans = new List<Activity>();
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(Broker.ActivitySourceName).AddInMemoryExporter(spans).Build())
        {
            await using var harness = await PigatoHarness.StartAsync();
            await harness.StartWorkerAsync("fail", (_, r, _) => r.ErrorAsync("E_BAD"));
            var client = await harness.StartClientAsync();

            await Assert.ThrowsAsync<PigatoReplyException>(() => client.RequestAsync<string>("fail", null, cancellationToken: Bounded.Token()).AsTask());
            await Bounded.UntilAsync(() => { lock (spans) { return spans.Any(s => s.DisplayName == "send fail"); } }, "the client span is exported");
            tracing.ForceFlush();
        }

        var send = Assert.Single(spans, s => s.DisplayName == "send fail");
        Assert.Equal(ActivityStatusCode.Error, send.Status);
        Assert.Equal("E_BAD", send.StatusDescription);
    }
}
