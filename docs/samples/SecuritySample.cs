using Pigato;
using Pigato.Security;

/// <summary>The samples of "Security", "Several brokers" and "Brokers found by name".</summary>
internal static class SecuritySample
{
    public static async Task RunAsync(RequestHandler<System.Text.Json.JsonElement> handler)
    {
        // <curve>
        var (publicKey, secretKey) = CurveKeys.Generate();       // or CurveKeys.ReadSecretKey("broker.key_secret") / ReadPublicKey("broker.key")
        var broker = new Broker(new BrokerOptions { CurveSecretKey = secretKey });
        var client = new Client(new ClientOptions { CurveServerKey = publicKey });   // WorkerOptions.CurveServerKey alike; hosting binds both
        // </curve>
        await broker.DisposeAsync();
        await client.DisposeAsync();

        // <several>
        var several = new Client(new ClientOptions { Endpoints = ["tcp://h1:55555", "tcp://h2:55555", "tcp://h3:55555"] });
        var worker = new Worker(new WorkerOptions { Endpoints = ["tcp://h1:55555", "tcp://h2:55555", "tcp://h3:55555"], Service = "echo", Concurrency = 50 }, handler);
        // hosting: "Pigato:Client:Endpoints:0": "tcp://h1:55555", "Pigato:Client:Endpoints:1": ... (a single Endpoint stays valid)
        // </several>
        await several.DisposeAsync();
        await worker.DisposeAsync();

        // <by-name>
        var byName = new Client(new ClientOptions { Endpoint = "dns+srv://_pigato._tcp.brokers.prod.svc.cluster.local" });
        var billing = new Worker(new WorkerOptions { Endpoints = ["dns://brokers.internal:55555"], Service = "billing", DnsRefreshInterval = TimeSpan.FromSeconds(5) }, handler);
        // </by-name>
        await byName.DisposeAsync();
        await billing.DisposeAsync();
    }
}
