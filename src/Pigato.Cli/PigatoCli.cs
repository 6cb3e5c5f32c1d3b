using System.CommandLine;
using Pigato.Cli.Commands;

namespace Pigato.Cli;

/// <summary>The <c>pigato</c> command line: parsing, usage errors (exit code 2) and the commands.</summary>
internal static class PigatoCli
{
    /// <summary>Exit code of a command line that could not be parsed.</summary>
    public const int UsageError = 2;

    /// <remarks>
    /// A plain command named <c>pigato</c> rather than a <see cref="RootCommand"/>, whose name is the assembly's
    /// (<c>Pigato.Cli</c>) and would show in every usage line.
    /// </remarks>
    public static Command Build()
    {
        var root = new Command("pigato", "pigato: PIGATO request/reply microservices on ZeroMQ, for .NET.")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
        };
        root.Subcommands.Add(BrokerCommand.Create());
        root.Subcommands.Add(WorkerCommand.Create());
        root.Subcommands.Add(RequestCommand.Create());
        root.Subcommands.Add(DirCommand.Create());
        root.Subcommands.Add(TopCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(LoadCommand.Create());
        root.Subcommands.Add(KeygenCommand.Create());
        root.Subcommands.Add(TokenCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }

    /// <summary>Runs a command line; <paramref name="cancellationToken"/> plays Ctrl+C for in-process callers.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = Build();
        var parsed = root.Parse(args);
        var invocation = new InvocationConfiguration { Output = output, Error = error };
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors)
            {
                await error.WriteLineAsync("error: " + problem.Message);
            }

            // The usage of the command that was being parsed.
            var command = parsed.CommandResult.Command;
            string[] help = command == root ? ["--help"] : [command.Name, "--help"];
            await root.Parse(help).InvokeAsync(new InvocationConfiguration { Output = error, Error = error }, cancellationToken);
            return UsageError;
        }

        return await parsed.InvokeAsync(invocation, cancellationToken);
    }
}
