using System.CommandLine;
using System.Text.Json;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Pigato.Perf.Roles;
using Pigato.Perf.Runner;

namespace Pigato.Perf;

/// <summary>The benchmark's entry: <c>role ...</c> runs one child process, anything else runs the benchmark.</summary>
public static class PerfProgram
{
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerOptions.Web) { WriteIndented = true };

    /// <summary>Runs the benchmark (or a child role) with these arguments; returns the exit code.</summary>
    public static async Task<int> MainAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);

        if (args is ["role", var role, .. var rest])
        {
            // The tracing scenario: spans recorded and dropped, the cost of instrumentation with a listener attached.
            if (Environment.GetEnvironmentVariable(Scenario.RdtscSwitch) == "1")
            {
                RdtscShim.Enable();
            }

            using var tracing = Environment.GetEnvironmentVariable(Scenario.TracingSwitch) == "1"
                ? Sdk.CreateTracerProviderBuilder().AddSource(Broker.ActivitySourceName).SetSampler(new AlwaysOnSampler()).Build()
                : null;

            int I(int i) => int.Parse(rest[i], System.Globalization.CultureInfo.InvariantCulture);
            return role switch
            {
                "broker-pigato" => await PigatoRoles.BrokerAsync(rest[0], rest.ElementAtOrDefault(1) is { Length: > 0 } key ? key : null, rest.ElementAtOrDefault(2)),
                "broker-forwarder" => await ForwarderRole.RunAsync(rest[0]),
                "worker-pigato" => await PigatoRoles.WorkerAsync(rest[0], rest[1], rest.ElementAtOrDefault(2)),
                "client-pigato" => await PigatoRoles.ClientAsync(rest[0], rest[1], rest[2], I(3), I(4), I(5), rest.ElementAtOrDefault(6)),
                "nats-responder" => await NatsRoles.ResponderAsync(rest[0], rest[1], rest.ElementAtOrDefault(2)),
                "nats-client" => await NatsRoles.ClientAsync(rest[0], rest[1], rest[2], I(3), I(4), I(5), rest.ElementAtOrDefault(6)),
                "fleet" => await FleetRole.RunAsync(rest[0], I(1), I(2)),
                "broker-lean" => await LeanForwarderRole.RunAsync(rest[0]),
                "worker-raw" => await RawRoles.WorkerAsync(rest[0], rest[1], rest[2]),
                "client-raw" => await RawRoles.ClientAsync(rest[0], rest[1], rest[2], rest[3], I(4), I(5), I(6)),
                "broker-lean-zmq" => await NativeLeanRoles.BrokerAsync(rest[0]),
                "worker-lean-zmq" => await NativeLeanRoles.WorkerAsync(rest[0]),
                "client-lean-zmq" => await NativeLeanRoles.ClientAsync(rest[0], rest[1], I(2), I(3), I(4)),
                _ => throw new ArgumentException("unknown role " + role),
            };
        }

        var quick = new Option<bool>("--quick") { Description = "Counts divided by 10, one repetition, 2 s warm-ups: about 10 minutes." };
        var smoke = new Option<bool>("--smoke") { Description = "Tiny counts, Pigato (JSON and bytes) and the forwarder only: proves the benchmark works (CI)." };
        var repeat = new Option<int>("--repeat") { Description = "Repetitions, interleaved between systems.", DefaultValueFactory = _ => 3 };
        var only = new Option<string[]>("--only") { Description = "Run only scenarios whose name contains one of these (e.g. --only latency throughput)." , AllowMultipleArgumentsPerToken = true };
        var systems = new Option<string[]>("--systems") { Description = "Systems to include: forwarder pigato pigato-bytes pigato-inline-completions pigato-v1 pigato-inline pigato-curve nats-tls node-broker node node-peers nats forwarder-raw zmtp-raw lean-raw lean-zmq.", AllowMultipleArgumentsPerToken = true };
        var json = new Option<FileInfo?>("--json") { Description = "Also write every run as JSON to this file." };
        var gc = new Option<string?>("--gc") { Description = "A GC setting for every .NET process of every system, named in every row: 'server' (Server GC) or 'gen0:MIB' (the young generation's smallest budget, DOTNET_GCgen0size)." };
        gc.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } text && GcSetting.Parse(text) is null)
            {
                result.AddError($"--gc: '{text}' is neither 'server' nor 'gen0:MIB' (1 to 1024).");
            }
        });
        var root = new RootCommand("Pigato's benchmark: Pigato against the transport ceiling, PIGATO for Node.js and NATS, in one run.")
        {
            quick, smoke, repeat, only, systems, json, gc,
        };
        root.SetAction(async parse =>
        {
            var isSmoke = parse.GetValue(smoke);
            var scale = isSmoke ? 200 : parse.GetValue(quick) ? 10 : 1;
            var repetitions = isSmoke || parse.GetValue(quick) ? 1 : Math.Max(1, parse.GetValue(repeat));

            // Every client's warm-up minimum (inherited by the roles; an explicit setting wins): steady state takes seconds.
            if (Environment.GetEnvironmentVariable(Load.WarmUpSecondsVariable) is null)
            {
                Environment.SetEnvironmentVariable(Load.WarmUpSecondsVariable, isSmoke ? "0" : parse.GetValue(quick) ? "2" : "10");
            }

            // Inherited by every process the run starts (not this one: its runtime has started).
            if (parse.GetValue(gc) is { } gcText)
            {
                Bench.Gc = GcSetting.Parse(gcText);
                Environment.SetEnvironmentVariable(Bench.Gc!.Variable, Bench.Gc.Value);
            }

            var wanted = parse.GetValue(systems) is { Length: > 0 } s ? s : isSmoke ? [Scenario.Forwarder, Scenario.Pigato, Scenario.PigatoBytes] : null;
            var filter = parse.GetValue(only) ?? [];
            var scenarios = Scenario.All(scale).Where(sc => filter.Length == 0 || filter.Any(f => sc.Name.Contains(f, StringComparison.OrdinalIgnoreCase))).ToList();

            var notes = new List<string> { $"{Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; {repetitions} repetition(s), counts / {scale}; every client warmed up for at least {Load.MinimumWarmUp.TotalSeconds:0} s, until steady (three rounds within 10 %)" };
            if (Bench.Gc is { } setting)
            {
                notes.Add(setting.ToString());
            }

            var skipped = new HashSet<string>();
            var plan = new List<(Scenario Scenario, string System)>();
            for (var r = 0; r < repetitions; r++)
            {
                foreach (var scenario in scenarios)
                {
                    foreach (var system in scenario.Systems.Where(x => wanted is null || wanted.Contains(x)))
                    {
                        var missing = Bench.Unavailable(system) is { } reason ? $"{system} skipped: {reason}"
                            : Bench.Unavailable(scenario) is { } scenarioReason ? $"{system} skipped in {scenario.Name}: {scenarioReason}"
                            : null;
                        if (missing is not null)
                        {
                            if (skipped.Add(missing))
                            {
                                notes.Add(missing);
                            }

                            continue;
                        }

                        plan.Add((scenario, system));
                    }
                }
            }

            var runs = new List<Measurement>();
            for (var i = 0; i < plan.Count; i++)
            {
                var (scenario, system) = plan[i];
                Console.Error.Write($"[{i + 1}/{plan.Count}] {scenario.Name} · {system} … ");
                try
                {
                    var run = await Bench.RunAsync(scenario, system);
                    runs.Add(run);
                    Console.Error.WriteLine($"{run.Rate:N0}/s, broker {run.BrokerUsPerRequest:0.0} µs/req, machine idle {run.MachineIdlePercent:0} %, steal {run.MachineStealPercent:0} %, warm-up rounds {string.Join(" ", run.WarmUpRates?.Select(r => r.ToString("N0")) ?? [])}/s{(run.WarmUpSteady ? "" : ", not steady")}");
                }
                catch (Exception e)
                {
                    Console.Error.WriteLine("failed: " + e.Message);
                    notes.Add($"{scenario.Name} · {system} failed: {e.Message.Split('\n')[0]}");
                }
            }

            Console.WriteLine(Report.Table(runs, notes));
            if (parse.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, JsonSerializer.Serialize(new { runs, notes }, Indented));
            }

            return runs.Count > 0 && runs.Count == plan.Count ? 0 : 1;
        });
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = Console.Out, Error = Console.Error });
    }
}
