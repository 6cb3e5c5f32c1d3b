using Pigato;

// A broker, a worker that offers "echo", and a client: in one process here, usually three.
await using var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:55555" });
await broker.StartAsync();

await using var worker = Worker.Create<string>(
    new WorkerOptions { Endpoint = "tcp://127.0.0.1:55555", Service = "echo" },
    async (data, reply, options) =>
    {
        await reply.WriteAsync("working on it");   // a partial reply
        await reply.EndAsync(data);                // the final reply
    });
await worker.StartAsync();
await worker.WaitForRegistrationAsync(TimeSpan.FromSeconds(10));

await using var client = new Client(new ClientOptions { Endpoint = "tcp://127.0.0.1:55555" });
await client.StartAsync();
await foreach (var reply in client.RequestStreamAsync<string>("echo", "hello"))
{
    Console.WriteLine($"{(reply.IsFinal ? "final" : "partial")}: {reply.Data}");
}
