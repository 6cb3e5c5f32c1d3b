using System.CommandLine;
using System.Diagnostics;

namespace Pigato.Cli.Commands;

/// <summary>
/// <c>pigato bench</c>: the benchmark's quick mode. The benchmark (bench/Pigato.Perf, with NATS.Net and friends) is not
/// shipped with the tool: the command finds it in the source checkout it is run from and starts it with <c>dotnet run</c>.
/// </summary>
internal static class BenchCommand
{
    private const string Project = "bench/Pigato.Perf/Pigato.Perf.csproj";

    public static Command Create()
    {
        var passThrough = new Argument<string[]>("options") { Description = "Benchmark options, e.g. --systems pigato forwarder, --json out.json, --smoke.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("bench", "Run the benchmark in its quick mode (about 10 minutes) from a source checkout: Pigato against a minimal forwarder, PIGATO for Node.js and NATS when present.") { passThrough };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            string[] args = [.. parse.GetValue(passThrough) ?? [], .. parse.UnmatchedTokens];
            if (!args.Contains("--smoke") && !args.Contains("--quick"))
            {
                args = ["--quick", .. args];
            }

            if (Find(Environment.CurrentDirectory) is not { } project)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {Project} not found in {Environment.CurrentDirectory} or above it: run `pigato bench` inside a Pigato source checkout.");
                return 1;
            }

            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false };
            foreach (var arg in (string[])["run", "-c", "Release", "--project", project, "--", .. args])
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return process.ExitCode;
        });
        return command;
    }

    /// <summary>The benchmark project in <paramref name="directory"/> or the nearest parent that has one.</summary>
    internal static string? Find(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, Project);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
