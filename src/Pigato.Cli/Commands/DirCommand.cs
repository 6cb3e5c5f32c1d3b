using System.CommandLine;

namespace Pigato.Cli.Commands;

/// <summary><c>pigato dir [service]</c>: asks <c>$dir</c> which workers offer which services and prints a table.</summary>
internal static class DirCommand
{
    public static Command Create()
    {
        var service = new Argument<string?>("service") { Description = "Only this service.", Arity = ArgumentArity.ZeroOrOne };
        var broker = Cli.BrokerOption();
        var timeout = Cli.DurationOption("--timeout", "Time to wait for the directory", TimeSpan.FromSeconds(10));

        var command = new Command("dir", "List services and their workers (asks the $dir service).") { service, broker, timeout };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var endpoint = parse.GetValue(broker)!;
            var name = parse.GetValue(service);
            await using var client = new Client(new ClientOptions { Endpoint = endpoint });
            await client.StartAsync(cancellationToken);
            var options = new RequestOptions { Timeout = parse.GetValue(timeout) };
            Dictionary<string, string[]> map;
            try
            {
                map = name is null
                    ? await client.RequestAsync<Dictionary<string, string[]>>(DirectoryService.ServiceName, null, options, cancellationToken) ?? []
                    : new() { [name] = await client.RequestAsync<string[]>(DirectoryService.ServiceName, name, options, cancellationToken) ?? [] };
            }
            catch (PigatoException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: no directory from {endpoint} ({e.Code}): is a broker with $dir running there?");
                return 1;
            }

            var width = Math.Max("SERVICE".Length, map.Keys.DefaultIfEmpty("").Max(k => k.Length)) + 2;
            await output.WriteLineAsync("SERVICE".PadRight(width) + "WORKER");
            foreach (var (svc, workers) in map.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                foreach (var worker in workers.DefaultIfEmpty("(none)"))
                {
                    await output.WriteLineAsync(svc.PadRight(width) + worker);
                }
            }

            return 0;
        });
        return command;
    }
}
