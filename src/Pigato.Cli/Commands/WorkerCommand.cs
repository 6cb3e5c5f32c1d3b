using System.CommandLine;
using Pigato.Examples;

namespace Pigato.Cli.Commands;

/// <summary><c>pigato worker echo|stocks</c>: runs one of the example workers until Ctrl+C or SIGTERM.</summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var service = new Argument<string>("service") { Description = "The example to run: echo or stocks." };
        service.AcceptOnlyFromAmong(EchoService.Name, StocksService.Name);
        var broker = Cli.BrokerOption();
        var curve = Cli.CurveServerOption();
        var credentialOptions = Cli.CredentialOptions();
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Requests handled at once (-1 = no limit).", DefaultValueFactory = _ => 100 };
        concurrency.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < -1)
            {
                r.AddError("--concurrency must be -1 (no limit) or more.");
            }
        });
        var heartbeat = Cli.HeartbeatOptions();
        var verbose = Cli.VerboseOption();
        var trace = Cli.TraceOption();

        var command = new Command("worker", "Run an example worker (echo, or stocks: daily quotes streamed as partial replies).") { service, broker, concurrency, heartbeat.Period, heartbeat.Liveness, verbose, trace, curve, credentialOptions.Principal, credentialOptions.TokenFile };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            if (!Cli.TryCurveServerKey(parse, curve, out var curveKey) || !Cli.TryCredential(parse, credentialOptions, out var credential))
            {
                return 1;
            }

            using var logging = Cli.Logging(parse.GetValue(verbose));
            using var tracing = Cli.Tracing(parse.GetValue(trace));
            var options = new WorkerOptions
            {
                CurveServerKey = curveKey,
                Credential = credential,
                Endpoints = parse.GetValue(broker)!,
                Service = parse.GetValue(service)!,
                Concurrency = parse.GetValue(concurrency),
                HeartbeatInterval = parse.GetValue(heartbeat.Period),
                Liveness = parse.GetValue(heartbeat.Liveness),
                LoggerFactory = logging,
            };
            await using var worker = options.Service == StocksService.Name
                ? Worker.Create<QuoteQuery>(options, StocksService.HandleAsync)
                : new Worker(options, EchoService.HandleAsync);
            worker.Connected += (_, _) => output.WriteLine($"worker {worker.Id} offers '{worker.Service}' via {string.Join(", ", options.Endpoints)}");
            await worker.StartAsync(cancellationToken);
            await output.WriteLineAsync($"worker for '{worker.Service}' started, connecting to {string.Join(", ", options.Endpoints)}; Ctrl+C to stop");
            await Cli.UntilCancelledAsync(cancellationToken);
            await worker.StopAsync(CancellationToken.None);
            await output.WriteLineAsync("worker stopped");
            return 0;
        });
        return command;
    }
}
