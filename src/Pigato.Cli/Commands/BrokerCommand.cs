using System.CommandLine;

namespace Pigato.Cli.Commands;

/// <summary><c>pigato broker</c>: runs a broker (with <c>$dir</c>) until Ctrl+C or SIGTERM.</summary>
internal static class BrokerCommand
{
    public static Command Create()
    {
        var bind = new Option<string>("--bind") { Description = "Endpoint to bind.", DefaultValueFactory = _ => "tcp://*:55555" };
        var intch = new Option<string>("--intch") { Description = "Internal PUB channel of core services.", DefaultValueFactory = _ => "tcp://127.0.0.1:55550" };
        var heartbeat = Cli.DurationOption("--heartbeat", "Heartbeat period", TimeSpan.FromMilliseconds(2500));
        var liveness = new Option<int>("--liveness") { Description = "Heartbeat periods a worker may stay silent.", DefaultValueFactory = _ => 3 };
        liveness.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--liveness must be at least 1.");
            }
        });
        var dmode = new Option<string>("--dmode") { Description = "How to pick a worker: load (fewest in flight) or rand.", DefaultValueFactory = _ => "load" };
        dmode.AcceptOnlyFromAmong("load", "rand");
        var noDirectory = new Option<bool>("--no-directory") { Description = "Do not run the $dir directory service." };
        var verbose = Cli.VerboseOption();

        var command = new Command("broker", "Run a broker until Ctrl+C or SIGTERM.") { bind, intch, heartbeat, liveness, dmode, noDirectory, verbose };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var logging = Cli.Logging(parse.GetValue(verbose));
            var options = new BrokerOptions
            {
                Endpoint = parse.GetValue(bind)!,
                InternalEndpoint = parse.GetValue(intch),
                HeartbeatInterval = parse.GetValue(heartbeat),
                Liveness = parse.GetValue(liveness),
                DispatchMode = parse.GetValue(dmode) == "rand" ? DispatchMode.Rand : DispatchMode.Load,
                EnableDirectory = !parse.GetValue(noDirectory),
                LoggerFactory = logging,
            };
            await using var broker = new Broker(options);
            try
            {
                await broker.StartAsync(cancellationToken);
            }
            catch (PigatoException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("error: " + e.Message);
                return 1;
            }

            await output.WriteLineAsync($"broker listening on {broker.Endpoint}{(options.EnableDirectory ? " with $dir" : "")}; Ctrl+C to stop");
            await Cli.UntilCancelledAsync(cancellationToken);
            await broker.StopAsync(CancellationToken.None);
            await output.WriteLineAsync("broker stopped");
            return 0;
        });
        return command;
    }
}
