using System.CommandLine;

namespace Pigato.Cli.Commands;

/// <summary><c>pigato bench</c>: the benchmark's quick mode (bench/Pigato.Perf); other arguments pass through.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var passThrough = new Argument<string[]>("options") { Description = "Benchmark options, e.g. --systems pigato forwarder, --json out.json, --smoke.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("bench", "Run the benchmark in its quick mode (a few minutes): Pigato against a minimal forwarder, PIGATO for Node.js and NATS when present.") { passThrough };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse =>
        {
            string[] args = [.. parse.GetValue(passThrough) ?? [], .. parse.UnmatchedTokens];
            return Perf.PerfProgram.MainAsync(args.Contains("--smoke") || args.Contains("--quick") ? args : ["--quick", .. args]);
        });
        return command;
    }
}
