using Pigato;

/// <summary>The samples of "The C# API at a glance" (docs/api-at-a-glance.md).</summary>
internal static class ApiAtAGlance
{
    public static async Task RunAsync()
    {
        // <api>
        // Broker: one ROUTER; tcp://127.0.0.1:0 picks a free port (broker.Endpoint tells which).
        await using var broker = new Broker(new BrokerOptions { Endpoint = "tcp://*:55555" });
        await broker.StartAsync();

        // Worker: one service, up to Concurrency requests at once (changeable at run time).
        await using var worker = Worker.Create<string>(
            new WorkerOptions { Endpoint = "tcp://127.0.0.1:55555", Service = "echo", Concurrency = 20 },
            async (data, reply, options) =>
            {
                await reply.WriteAsync("partial");          // a partial reply
                await reply.EndAsync(data);                 // the final reply (or ErrorAsync / RejectAsync)
            });
        await worker.StartAsync();

        // Client: many requests at once, from any thread.
        await using var client = new Client(new ClientOptions { Endpoint = "tcp://127.0.0.1:55555" });
        await client.StartAsync();

        string? answer = await client.RequestAsync<string>("echo", "hello");                 // awaited final reply

        await foreach (var reply in client.RequestStreamAsync<string>("echo", "hello"))      // partials, then final
        {
            Console.WriteLine($"{(reply.IsFinal ? "final" : "partial")}: {reply.Data}");
        }

        client.Request<string>("echo", "hello",                                              // callbacks, as in PIGATO
            onPartial: (error, data) => Console.WriteLine($"partial {data}"),
            onFinal: (error, data) => Console.WriteLine($"final {data} {error?.Code}"),
            new RequestOptions { Timeout = TimeSpan.FromSeconds(10), Retry = true });
        // </api>
        Console.WriteLine(answer);
    }

    public static Worker PooledRawWorker() =>
        // <raw>
        Worker.CreateRaw(new WorkerOptions { Endpoint = "tcp://127.0.0.1:55555", Service = "blob" }, (data, reply, options) =>
        {
            var rented = System.Buffers.MemoryPool<byte>.Shared.Rent(data.Length);
            data.CopyTo(rented.Memory);                                  // or produce the reply in place
            return reply.EndRawAsync(rented.Memory[..data.Length], rented); // handed over: returned to the pool once sent
        });
        // </raw>
}
