using System.Text.Json;
using Pigato.Perf.Roles;
using Pigato.TestUtilities;

namespace Pigato.Perf.Runner;

/// <summary>Starts the processes of one system for one scenario, measures the load, stops them all.</summary>
internal static class Bench
{
    /// <summary>The GC setting of every .NET process of this run (<c>--gc</c>), or null.</summary>
    public static GcSetting? Gc { get; set; }

    /// <summary>Why a system cannot run here, or null.</summary>
    public static string? Unavailable(string system) => system switch
    {
        Scenario.NodeBroker or Scenario.NodeStack or Scenario.NodePeers when InteropDirectory() is null => "Node.js PIGATO is not installed (run 'npm ci' in tests/interop)",
        Scenario.NodeBroker or Scenario.NodeStack or Scenario.NodePeers when !OnPath("node") => "node is not on PATH",
        Scenario.Nats or Scenario.NatsTls when !OnPath("nats-server") => "nats-server is not installed (apt-get install nats-server)",
        Scenario.LeanZmq => Roles.NativeZmq.Unavailable,
        _ => null,
    };

    /// <summary>Why a scenario cannot run here, or null.</summary>
    public static string? Unavailable(Scenario scenario) =>
        scenario.Store == "redis" && !OnPath("redis-server") ? "redis-server is not installed (apt-get install redis-server)"
        : scenario.Switch == Scenario.RdtscSwitch ? RdtscShim.Unavailable
        : null;

    public static async Task<Measurement> RunAsync(Scenario scenario, string system)
    {
        var children = new List<Child>();
        var store = await StartStoreAsync(scenario, children);

        // The processes inherit the scenario's switch (PerfProgram acts on it).
        if (scenario.Switch is { } on)
        {
            Environment.SetEnvironmentVariable(on, "1");
        }

        // pigato-v1, pigato-inline and pigato-bytes run the Pigato roles, told to keep to PIGATO's frames, to run handlers
        // inline, or to send the payload as bytes.
        Environment.SetEnvironmentVariable(Scenario.FramingVariable, system == Scenario.PigatoV1 ? "v1" : null);
        Environment.SetEnvironmentVariable(Scenario.InlineVariable, system == Scenario.PigatoInline ? "1" : null);
        Environment.SetEnvironmentVariable(Scenario.PayloadVariable, system == Scenario.PigatoBytes ? "bytes" : null);

        // Every system runs with its library defaults and no environment variable, but the one whose name says so.
        Environment.SetEnvironmentVariable(Scenario.InlineCompletionsVariable, system == Scenario.PigatoInlineCompletions ? "1" : null);
        var label = Gc is null ? system : Gc.Name(system);
        system = system is Scenario.PigatoV1 or Scenario.PigatoInline or Scenario.PigatoInlineCompletions or Scenario.PigatoBytes ? Scenario.Pigato : system;

        try
        {
            var (broker, endpoint) = await StartBrokerAsync(system, children, store);

            // Several brokers (Pigato only): every worker and client connects to all of them; broker CPU is their sum.
            var brokers = new List<Child> { broker };
            for (var b = 1; b < scenario.Brokers; b++)
            {
                var (more, moreEndpoint) = await StartBrokerAsync(system, children, store);
                brokers.Add(more);
                endpoint += "," + moreEndpoint;
            }

            if (scenario.FleetServices > 0 || scenario.FleetQueued > 0)
            {
                var fleet = Add(children, Child.Role("fleet", "fleet", endpoint, scenario.FleetServices.ToString(), scenario.FleetQueued.ToString()));
                await fleet.WaitForAsync("ready");
                await WaitUntilBrokerSettledAsync(broker, children);
            }

            var workers = new List<Child>();
            for (var i = 0; i < scenario.Workers; i++)
            {
                workers.Add(Add(children, StartWorker(system, endpoint)));
            }

            foreach (var worker in workers)
            {
                await worker.WaitForAsync("ready");
            }

            var clients = new List<Child>();
            for (var i = 0; i < scenario.Clients; i++)
            {
                clients.Add(Add(children, StartClient(system, endpoint, scenario)));
            }

            var warmUps = new List<WarmUpSummary>();
            foreach (var client in clients)
            {
                var ready = await client.WaitForAsync("ready");
                if (ready.TryGetProperty("warmUp", out var warmUp))
                {
                    warmUps.Add(warmUp.Deserialize<WarmUpSummary>(JsonSerializerOptions.Web)!);
                }

                if (system is Scenario.NodeStack or Scenario.NodePeers)
                {
                    warmUps.Add(await Load.WarmUpAsync(
                        async (count, window) => ToLoadResult(await NodeFloodAsync(client, count, window, scenario.Size)),
                        scenario.Count / scenario.Clients,
                        scenario.InFlight / scenario.Clients,
                        NodeWarmUpRound));
                }
            }

            // The failover scenario kills the first broker: measure the ones that survive.
            var measured = scenario.Mode == "failover" ? brokers.Skip(1).ToList() : brokers;
            var roles = measured.Concat(workers).Concat(clients).Where(c => c.IsRole).ToList();
            var statsBefore = await StatsAsync(roles);
            var cpuBefore = children.ToDictionary(c => c, c => c.Cpu);
            var machineBefore = MachineTime.Now();
            var results = scenario.Mode == "failover"
                ? await FailoverAsync(clients, brokers[0])
                : await Task.WhenAll(clients.Select(c => RunLoadAsync(c, system, scenario)));
            var cpuAfter = children.ToDictionary(c => c, c => c.Cpu);
            var (idle, steal) = machineBefore.Until(MachineTime.Now());
            var statsAfter = await StatsAsync(roles);

            double Cpu(IEnumerable<Child> of) => of.Sum(c => (cpuAfter[c] - cpuBefore[c]).TotalSeconds);

            // Allocations and GCs only where every process of the group is a role of ours (not node, nats-server).
            long? Sum(List<Child> of, Func<JsonElement, long> read) =>
                of.All(c => c.IsRole) ? of.Sum(c => read(statsAfter[c]) - read(statsBefore[c])) : null;
            return new Measurement(
                scenario.Name,
                label,
                results.Sum(r => r.GetProperty("requests").GetInt64()),
                results.Max(r => r.GetProperty("seconds").GetDouble()),
                results.Average(r => r.GetProperty("p50Us").GetDouble()),
                results.Max(r => r.GetProperty("p99Us").GetDouble()),
                results.Max(r => r.GetProperty("maxUs").GetDouble()),
                Cpu(measured),
                Cpu(workers),
                Cpu(clients),
                Sum(measured, Allocated),
                Sum(workers, Allocated),
                Sum(clients, Allocated),
                (int?)Sum(measured, Gcs),
                results.Sum(r => r.TryGetProperty("bytes", out var b) ? b.GetInt64() : 0),
                results.Sum(r => r.TryGetProperty("failed", out var f) ? f.GetInt64() : 0),
                warmUps.Count > 0 ? warmUps.MaxBy(w => w.Rounds)!.Rates : null,
                warmUps.All(w => w.Steady),
                idle,
                steal);
        }
        finally
        {
            if (scenario.Switch is { } off)
            {
                Environment.SetEnvironmentVariable(off, null);
            }

            for (var i = children.Count - 1; i >= 0; i--)
            {
                await children[i].DisposeAsync();
            }

            if (store?.StartsWith("sqlite:", StringComparison.Ordinal) == true)
            {
                Directory.Delete(Path.GetDirectoryName(store["sqlite:".Length..])!, recursive: true);
            }
        }
    }

    /// <summary>The store a scenario's broker uses: a fresh SQLite file, or a redis-server of the run's own; null for none.</summary>
    private static async Task<string?> StartStoreAsync(Scenario scenario, List<Child> children)
    {
        switch (scenario.Store)
        {
            case "sqlite":
                return "sqlite:" + Path.Combine(Directory.CreateTempSubdirectory("pigato-bench-").FullName, "requests.db");
            case "redis":
                var port = Ports.FreePort();
                Add(children, Child.Start("redis-server", "redis-server", ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], null));
                await Ports.WaitUntilAcceptsAsync(port, TimeSpan.FromSeconds(5));
                return $"redis:127.0.0.1:{port}";
            default:
                return null;
        }
    }

    private static long Allocated(JsonElement stats) => stats.GetProperty("alloc").GetInt64();

    private static long Gcs(JsonElement stats) => stats.GetProperty("gc0").GetInt32() + stats.GetProperty("gc1").GetInt32() + stats.GetProperty("gc2").GetInt32();

    /// <summary>Every role's <c>stats</c> line (allocated bytes, GC counts), asked of all at once.</summary>
    private static async Task<Dictionary<Child, JsonElement>> StatsAsync(List<Child> roles)
    {
        var stats = await Task.WhenAll(roles.Select(r => r.StatsAsync()));
        return roles.Zip(stats).ToDictionary(p => p.First, p => p.Second);
    }

    private static Child Add(List<Child> children, Child child)
    {
        children.Add(child);
        return child;
    }

    /// <summary>
    /// The runtime settings of the <c>pigato</c> tool (src/Pigato.Cli/Pigato.Cli.csproj: Server GC, not concurrent, conserving
    /// memory), given to Pigato's broker roles so that they run as <c>pigato broker</c> does; the benchmark's project sets
    /// the rest (not concurrent), and a client or worker runs with its application's settings, here the benchmark's.
    /// </summary>
    private static readonly Dictionary<string, string> BrokerTool = new()
    {
        ["DOTNET_gcServer"] = "1",
        ["DOTNET_GCConserveMemory"] = "7",
    };

    private static async Task<(Child Broker, string Endpoint)> StartBrokerAsync(string system, List<Child> children, string? store)
    {
        switch (system)
        {
            case Scenario.PigatoCurve:
                var curve = Add(children, Child.Role(system + " broker", BrokerTool, ["broker-pigato", "tcp://127.0.0.1:0", Scenario.CurveKeys.SecretKey]));
                return (curve, (await curve.WaitForAsync("ready")).GetProperty("endpoint").GetString()!);
            case Scenario.Pigato or Scenario.NodePeers or Scenario.Forwarder or Scenario.ForwarderRaw or Scenario.ZmtpRaw or Scenario.LeanRaw:
                var name = system switch
                {
                    Scenario.Pigato or Scenario.NodePeers => "broker-pigato",
                    Scenario.LeanRaw => "broker-lean",
                    _ => "broker-forwarder",
                };
                string[] args = store is null ? [name, "tcp://127.0.0.1:0"] : [name, "tcp://127.0.0.1:0", "", store];
                var role = Add(children, Child.Role(system + " broker", system is Scenario.Pigato or Scenario.NodePeers ? BrokerTool : null, args));
                return (role, (await role.WaitForAsync("ready")).GetProperty("endpoint").GetString()!);
            case Scenario.LeanZmq:
                var native = Add(children, Child.Role(system + " broker", "broker-lean-zmq", "tcp://127.0.0.1:0"));
                return (native, (await native.WaitForAsync("ready")).GetProperty("endpoint").GetString()!);
            case Scenario.NodeBroker or Scenario.NodeStack:
                var endpoint = $"tcp://127.0.0.1:{Ports.FreePort()}";
                var node = Add(children, Child.Start("node broker", "node", ["peer.js", "broker", endpoint, $"tcp://127.0.0.1:{Ports.FreePort()}"], InteropDirectory()));
                await node.WaitForAsync("ready");
                return (node, endpoint);
            default:
                var port = Ports.FreePort();
                string[] tls = system == Scenario.NatsTls ? ["--tls", "--tlscert", NatsTlsCertificate.CertFile, "--tlskey", NatsTlsCertificate.KeyFile] : [];
                var nats = Add(children, Child.Start("nats-server", "nats-server", ["-a", "127.0.0.1", "-p", port.ToString(), .. tls], null));
                await Ports.WaitUntilAcceptsAsync(port, TimeSpan.FromSeconds(5));
                return (nats, $"{(tls.Length > 0 ? "tls" : "nats")}://127.0.0.1:{port}");
        }
    }

    private static Child StartWorker(string system, string endpoint) => system switch
    {
        Scenario.NodeStack or Scenario.NodePeers => Child.Start("node worker", "node", ["peer.js", "worker", endpoint, "echo"], InteropDirectory()),
        Scenario.Nats => Child.Role("nats responder", "nats-responder", endpoint, "echo"),
        Scenario.NatsTls => Child.Role("nats responder", "nats-responder", endpoint, "echo", NatsTlsCertificate.CertFile),
        Scenario.ForwarderRaw => Child.Role("raw worker", "worker-raw", endpoint, "pigato", "netmq"),
        Scenario.ZmtpRaw => Child.Role("raw worker", "worker-raw", endpoint, "pigato", "zmtp"),
        Scenario.LeanRaw => Child.Role("raw worker", "worker-raw", endpoint, "lean", "netmq"),
        Scenario.LeanZmq => Child.Role("libzmq worker", "worker-lean-zmq", endpoint),
        Scenario.PigatoCurve => Child.Role("pigato worker", "worker-pigato", endpoint, "echo", Scenario.CurveKeys.PublicKey),
        _ => Child.Role("pigato worker", "worker-pigato", endpoint, "echo"),
    };

    private static Child StartClient(string system, string endpoint, Scenario s)
    {
        string[] load = [s.Mode, (s.Count / s.Clients).ToString(), Math.Max(1, s.InFlight / s.Clients).ToString(), s.Size.ToString()];
        return system switch
        {
            Scenario.NodeStack or Scenario.NodePeers => Child.Start("node client", "node", ["peer.js", "client", endpoint], InteropDirectory()),
            Scenario.Nats => Child.Role("nats client", ["nats-client", endpoint, "echo", .. load]),
            Scenario.NatsTls => Child.Role("nats client", ["nats-client", endpoint, "echo", .. load, NatsTlsCertificate.CertFile]),
            Scenario.ForwarderRaw => Child.Role("raw client", ["client-raw", endpoint, "pigato", "netmq", .. load]),
            Scenario.ZmtpRaw => Child.Role("raw client", ["client-raw", endpoint, "pigato", "zmtp", .. load]),
            Scenario.LeanRaw => Child.Role("raw client", ["client-raw", endpoint, "lean", "netmq", .. load]),
            Scenario.LeanZmq => Child.Role("libzmq client", ["client-lean-zmq", endpoint, .. load]),
            Scenario.PigatoCurve => Child.Role("pigato client", ["client-pigato", endpoint, "echo", .. load, Scenario.CurveKeys.PublicKey]),
            _ => Child.Role("pigato client", ["client-pigato", endpoint, "echo", .. load]),
        };
    }

    /// <summary>Starts the load, and half-way through kills one broker as in a crash; the others carry on.</summary>
    private static async Task<JsonElement[]> FailoverAsync(List<Child> clients, Child victim)
    {
        foreach (var client in clients)
        {
            client.Send("go");
        }

        await clients[0].WaitForAsync("half");
        victim.Kill();
        return await Task.WhenAll(clients.Select(async c => (await c.WaitForAsync("result")).GetProperty("result")));
    }

    private static async Task<JsonElement> RunLoadAsync(Child client, string system, Scenario scenario)
    {
        if (system is Scenario.NodeStack or Scenario.NodePeers)
        {
            return await NodeFloodAsync(client, scenario.Count / scenario.Clients, scenario.Mode == "latency" ? 1 : Math.Max(1, scenario.InFlight / scenario.Clients), scenario.Size);
        }

        client.Send("go");
        return (await client.WaitForAsync("result")).GetProperty("result");
    }

    private static int _nodeCommand;

    /// <summary>Node.js clients run an order of magnitude slower: their warm-up rounds are shorter.</summary>
    private const int NodeWarmUpRound = 10_000;

    private static async Task<JsonElement> NodeFloodAsync(Child client, int count, int window, int size)
    {
        var id = Interlocked.Increment(ref _nodeCommand);
        client.Send(JsonSerializer.Serialize(new { id, service = "echo", flood = count, window, size }));
        return await client.WaitForAsync(null, id);
    }

    private static LoadResult ToLoadResult(JsonElement e) =>
        new(e.GetProperty("requests").GetInt64(), e.GetProperty("seconds").GetDouble(), 0, 0, 0, 0);
    /// <summary>Lets the broker absorb the fleet (registrations, queued requests) before measuring.</summary>
    private static async Task WaitUntilBrokerSettledAsync(Child broker, List<Child> children)
    {
        TimeSpan? previous = null;
        for (var i = 0; i < 100; i++)
        {
            await Task.Delay(100);
            var cpu = broker.Cpu;
            if (cpu - previous < TimeSpan.FromMilliseconds(5))
            {
                return;
            }

            previous = cpu;
        }
    }

    private static string? InteropDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "interop");
            if (File.Exists(Path.Combine(candidate, "peer.js")) && Directory.Exists(Path.Combine(candidate, "node_modules", "pigato")))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, command)));
}
