using System.Text.Json;

namespace Pigato.Perf.Roles;

/// <summary>Pigato's own broker, worker and client as benchmark processes.</summary>
internal static class PigatoRoles
{
    /// <summary>v1 when the runner says so (the pigato-v1 system), else the default: v2 between .NET peers.</summary>
    private static Framing Framing => Environment.GetEnvironmentVariable(Runner.Scenario.FramingVariable) == "v1" ? Framing.V1 : Framing.Auto;

    /// <summary>On when the runner says so (the pigato-inline system): the worker's handlers and the client's continuations run inline.</summary>
    private static bool Inline => Environment.GetEnvironmentVariable(Runner.Scenario.InlineVariable) == "1";

    /// <summary>On when the runner says so (the pigato-bytes system): the payload goes as bytes, through the raw API on both sides.</summary>
    private static bool Bytes => Environment.GetEnvironmentVariable(Runner.Scenario.PayloadVariable) == "bytes";

    /// <summary>The store the runner names: <c>sqlite:PATH</c>, <c>redis:HOST:PORT</c>, or none.</summary>
    private static Persistence.RequestStoreFactory? StoreAt(string? store) => store switch
    {
        null => null,
        _ when store.StartsWith("sqlite:", StringComparison.Ordinal) => Persistence.SqliteRequestStore.At(store["sqlite:".Length..]),
        _ => Persistence.RedisRequestStore.At(store["redis:".Length..]),
    };

    /// <summary>The broker; with <paramref name="curveSecretKey"/>, every connection is encrypted; <paramref name="store"/> keeps persist requests.</summary>
    public static async Task<int> BrokerAsync(string endpoint, string? curveSecretKey = null, string? store = null)
    {
        await using var broker = new Broker(new BrokerOptions { Endpoint = endpoint, InternalEndpoint = null, CurveSecretKey = curveSecretKey, Store = StoreAt(store), Framing = Framing });
        await broker.StartAsync();
        RoleHost.Emit(new { @event = "ready", endpoint = broker.Endpoint });
        await RoleHost.ServeAsync();
        return 0;
    }

    /// <summary>Echoes; a request <c>{"stream":n,"size":s}</c> is answered with n partials of s bytes, then a final.</summary>
    public static async Task<int> WorkerAsync(string endpoint, string service, string? curveServerKey = null)
    {
        // Several brokers come as one comma-separated argument.
        var options = new WorkerOptions { Endpoints = endpoint.Split(','), Service = service, Concurrency = -1, CurveServerKey = curveServerKey, Framing = Framing, RunHandlersInline = Inline };
        await using var worker = Bytes ? Worker.CreateRaw(options, (data, reply, _) => reply.EndRawAsync(data)) : new Worker(options, async (data, reply, _) =>
        {
            if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("stream", out var count))
            {
                var chunk = new string('x', data.GetProperty("size").GetInt32());
                for (var i = 0; i < count.GetInt32(); i++)
                {
                    await reply.WriteAsync(chunk);
                }

                await reply.EndAsync();
                return;
            }

            await reply.EndAsync(data);
        });
        await worker.StartAsync();
        await worker.WaitForRegistrationAsync(TimeSpan.FromSeconds(30));

        RoleHost.Emit(new { @event = "ready", id = worker.Id });
        await RoleHost.ServeAsync();
        return 0;
    }

    /// <summary>Warms up, says ready, and on <c>go</c> runs the measured load and emits its result.</summary>
    public static async Task<int> ClientAsync(string endpoint, string service, string mode, int count, int inFlight, int size, string? curveServerKey = null)
    {
        // A stream of `count` partials may arrive faster than the counting loop reads them: the bound (ERR_SLOW_CONSUMER past
        // MaxBufferedReplies) is not what this measures, so it is set to the whole stream.
        await using var client = new Client(new ClientOptions { Endpoints = endpoint.Split(','), CurveServerKey = curveServerKey, Framing = Framing, MaxBufferedReplies = Math.Max(count, 10_000), RunContinuationsInline = Inline });
        await client.StartAsync();
        var payload = new string('x', size);
        var persist = new RequestOptions { Persist = true };
        Func<Task> request = (mode, Bytes) switch
        {
            ("persist", _) => () => client.RequestAsync<string>(service, payload, persist).AsTask(),
            (_, true) => RawEcho(client, service, payload),
            _ => () => client.RequestAsync<string>(service, payload).AsTask(),
        };
        // A stream warms up by streaming: its partials take code paths that echo requests never reach.
        var warmUp = mode == "stream"
            ? await Load.WarmUpAsync((n, _) => StreamAsync(client, service, n, size), count, inFlight)
            : await Load.WarmUpAsync(request, count, inFlight);
        RoleHost.Emit(new { @event = "ready", warmUp });
        await RoleHost.ServeAsync(async command =>
        {
            if (command != "go")
            {
                return;
            }

            var result = mode switch
            {
                "failover" => await Load.FailoverAsync(
                    () => client.RequestAsync<string>(service, payload, new RequestOptions { Retry = true, Timeout = TimeSpan.FromSeconds(30) }).AsTask(),
                    count,
                    inFlight,
                    () => RoleHost.Emit(new { @event = "half" })),
                "stream" => await StreamAsync(client, service, count, size),
                _ => await Load.ForMode(mode, request, count, inFlight),
            };
            RoleHost.Emit(new { @event = "result", result });
        });
        return 0;
    }

    /// <summary>A request with the JSON string's bytes through the raw API, its reply checked to be the same bytes.</summary>
    private static Func<Task> RawEcho(Client client, string service, string payload)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(payload);
        return async () =>
        {
            var reply = await client.RequestRawAsync(service, bytes);
            if (!reply.Data.Span.SequenceEqual(bytes))
            {
                throw new InvalidOperationException($"The echo came back as {reply.Data.Length} other bytes.");
            }
        };
    }

    private static async Task<LoadResult> StreamAsync(Client client, string service, int count, int size)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long messages = 0, bytes = 0;
        await foreach (var reply in client.RequestStreamAsync<string>(service, new { stream = count, size }, new RequestOptions { Timeout = TimeSpan.FromMinutes(5) }))
        {
            messages++;
            bytes += reply.Data?.Length ?? 0;
        }

        return new LoadResult(messages, clock.Elapsed.TotalSeconds, 0, 0, 0, bytes);
    }
}
