using System.Text.Json;

namespace Pigato.TestUtilities;

/// <summary>
/// A real broker on an ephemeral 127.0.0.1 port plus the workers and clients a test makes; disposing it
/// stops and disposes them all (clients first, then workers, then the broker).
/// </summary>
public sealed class PigatoHarness : IAsyncDisposable
{
    private readonly List<Client> _clients = [];
    private readonly List<Worker> _workers = [];

    private PigatoHarness(Broker broker) => Broker = broker;

    public Broker Broker { get; }

    /// <summary>Everything the broker logged (Debug and up): per-request traces, workers joining and leaving.</summary>
    public ListLogger BrokerLog { get; private init; } = new();

    public string Endpoint => Broker.Endpoint!;

    /// <summary>Errors the broker reported, in order.</summary>
    public List<PigatoErrorEventArgs> BrokerErrors { get; } = [];

    public static async Task<PigatoHarness> StartAsync(BrokerOptions? options = null)
    {
        var log = new ListLogger();
        var broker = new Broker((options ?? new BrokerOptions()) with { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = "tcp://127.0.0.1:0", LoggerFactory = new Microsoft.Extensions.Logging.LoggerFactory([log]) });
        var harness = new PigatoHarness(broker) { BrokerLog = log };
        broker.Error += (_, e) =>
        {
            lock (harness.BrokerErrors)
            {
                harness.BrokerErrors.Add(e);
            }
        };
        await broker.StartAsync();
        return harness;
    }

    /// <summary>
    /// Options of a worker of this broker, heartbeating at the broker's pace so that it is never purged by
    /// mistake, and patient with the broker (liveness 6): a loaded CI machine must not make it reconnect.
    /// </summary>
    public WorkerOptions WorkerOptions(string service) => new() { Endpoint = Endpoint, Service = service, HeartbeatInterval = Broker.Options.HeartbeatInterval, Liveness = 6 };

    public async Task<Worker> StartWorkerAsync(string service, RequestHandler<JsonElement> handler, Func<WorkerOptions, WorkerOptions>? configure = null)
    {
        var worker = new Worker(configure?.Invoke(WorkerOptions(service)) ?? WorkerOptions(service), handler);
        return await StartWorkerAsync(worker);
    }

    /// <summary>Starts a worker and waits until the broker has registered it, so that requests reach it at once.</summary>
    public async Task<Worker> StartWorkerAsync(Worker worker)
    {
        _workers.Add(worker);
        await worker.StartAsync();
        await Bounded.UntilAsync(() => worker.IsConnected, $"worker {worker.Service} is connected");
        return worker;
    }

    /// <summary>
    /// A raw DEALER registered as worker <paramref name="id"/> of <paramref name="service"/> with READY's status frame
    /// <paramref name="status"/>, once the broker counts it; with the broker's READY answer. The caller disposes the socket.
    /// </summary>
    public async Task<(RawSocket Worker, string[] Answer)> RegisterRawWorkerAsync(string id, string service, string status)
    {
        var worker = RawSocket.Dealer(Endpoint, id);
        worker.Send("W", "1", service, status);
        var answer = worker.ReceiveMatching(0, "W", "1");
        await Bounded.UntilAsync(async () => (await Broker.GetStatsAsync()).Workers > 0, "the broker registered the worker");
        return (worker, answer);
    }

    public async Task<Client> StartClientAsync(Func<ClientOptions, ClientOptions>? configure = null)
    {
        var options = new ClientOptions { Endpoint = Endpoint, HeartbeatInterval = Broker.Options.HeartbeatInterval, Liveness = 6 };
        var client = new Client(configure?.Invoke(options) ?? options);
        _clients.Add(client);
        await client.StartAsync();
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        await Broker.DisposeAsync();
    }
}
