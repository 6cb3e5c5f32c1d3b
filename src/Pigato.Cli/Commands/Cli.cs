using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using OpenTelemetry.Trace;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Pigato.Cli.Commands;

/// <summary>Options and helpers shared by the commands.</summary>
internal static partial class Cli
{
    public const string DefaultBroker = "tcp://127.0.0.1:55555";

    /// <summary>The brokers to connect to: repeat <c>--broker</c> for several (the client or worker connects to every one).</summary>
    public static Option<string[]> BrokerOption() => new("--broker", "-b")
    {
        Description = "Broker endpoint to connect to; repeat it for several brokers.",
        DefaultValueFactory = _ => [DefaultBroker],
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>A client's or worker's heartbeat period and liveness: how soon it counts a silent broker as lost.</summary>
    public static (Option<TimeSpan> Period, Option<int> Liveness) HeartbeatOptions() => (
        DurationOption("--heartbeat", "Heartbeat period; match the brokers'", TimeSpan.FromMilliseconds(2500)),
        CountOption("--liveness", "Heartbeat periods a broker may stay silent before it counts as lost.", 3));

    /// <summary>A duration option: <c>2.5s</c>, <c>500ms</c>, <c>1m</c>, <c>1h</c> or <c>hh:mm:ss</c>.</summary>
    public static Option<TimeSpan> DurationOption(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description + " (e.g. 500ms, 2.5s, 1m)",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = ParseDuration,
    };

    /// <summary>The brokers' public key file (<c>.key</c> from <c>pigato keygen</c>): the connection is then encrypted with CURVE.</summary>
    public static Option<FileInfo?> CurveServerOption() => new("--curve-server") { Description = "The brokers' public key file (NAME.key from pigato keygen): encrypt with CURVE." };

    /// <summary>Reads the public key file given with <c>--curve-server</c> (null key when not given); false, with the error printed, when it holds no valid key.</summary>
    public static bool TryCurveServerKey(ParseResult parse, Option<FileInfo?> option, out string? key)
    {
        key = null;
        if (parse.GetValue(option) is not { } file)
        {
            return true;
        }

        try
        {
            key = Security.CurveKeys.ReadPublicKey(file.FullName);
            return true;
        }
        catch (PigatoException e)
        {
            parse.InvocationConfiguration.Error.WriteLine("error: " + e.Message);
            return false;
        }
    }

    /// <summary>The principal to authenticate as, with its token read from a file (so that it does not show in process lists).</summary>
    public static (Option<string?> Principal, Option<FileInfo?> TokenFile) CredentialOptions() => (
        new Option<string?>("--principal") { Description = "Authenticate as this principal (with --token-file) to a broker that requires it." },
        new Option<FileInfo?>("--token-file") { Description = "A file holding the principal's token (from pigato token)." });

    /// <summary>The credential given on the command line, or null; false, with the error printed, when it is incomplete or unreadable.</summary>
    public static bool TryCredential(ParseResult parse, (Option<string?> Principal, Option<FileInfo?> TokenFile) options, out Security.PigatoCredential? credential)
    {
        credential = null;
        var principal = parse.GetValue(options.Principal);
        var file = parse.GetValue(options.TokenFile);
        if (principal is null && file is null)
        {
            return true;
        }

        if (principal is null || file is null)
        {
            parse.InvocationConfiguration.Error.WriteLine("error: --principal and --token-file go together.");
            return false;
        }

        try
        {
            credential = new Security.PigatoCredential(principal, File.ReadAllText(file.FullName).Trim());
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: cannot read the token file '{file.FullName}': {e.Message}");
            return false;
        }
    }

    /// <summary>A size option: <c>256MiB</c>, <c>4MB</c>, <c>64KiB</c> or a number of bytes.</summary>
    public static Option<long> SizeOption(string name, string description, long defaultValue) => new(name)
    {
        Description = description + " (e.g. 4MiB, 256MB, 65536)",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = ParseSize,
    };

    /// <summary>A whole number of at least 1.</summary>
    public static Option<int> CountOption(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError($"{name} must be at least 1.");
            }
        });
        return option;
    }

    public static Option<bool> TraceOption() => new("--trace") { Description = "Print every span of the Pigato activity source (OpenTelemetry's console exporter): trace and span ids, parents, events." };

    /// <summary>With <paramref name="enabled"/>, a tracer provider exporting the <c>Pigato</c> spans to the console until disposed; else null.</summary>
    public static IDisposable? Tracing(bool enabled) =>
        enabled ? OpenTelemetry.Sdk.CreateTracerProviderBuilder().AddSource(Broker.ActivitySourceName).AddConsoleExporter().Build() : null;

    public static Option<bool> VerboseOption() => new("--verbose", "-v") { Description = "Log every request, not only workers joining and leaving." };

    /// <summary>Logs one line per event, with its time; to standard error when standard output carries the command's result.</summary>
    public static ILoggerFactory Logging(bool verbose, bool toStandardError = false) => LoggerFactory.Create(builder => builder
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        })
        .AddConsole(o => o.LogToStandardErrorThreshold = toStandardError ? LogLevel.Trace : LogLevel.None)
        .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information));

    /// <summary>Waits for Ctrl+C or SIGTERM (the token System.CommandLine cancels).</summary>
    public static async Task UntilCancelledAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The signal to stop.
        }
    }

    private static TimeSpan ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
        var match = DurationPattern().Match(text);
        if (match.Success)
        {
            var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            var duration = match.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                _ => TimeSpan.FromHours(value),
            };
            if (duration > TimeSpan.Zero)
            {
                return duration;
            }
        }
        else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero)
        {
            return span;
        }

        result.AddError($"'{text}' is not a positive duration (examples: 500ms, 2.5s, 1m, 00:00:10).");
        return default;
    }

    private static long ParseSize(ArgumentResult result)
    {
        var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
        var match = SizePattern().Match(text);
        if (match.Success)
        {
            var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            var unit = match.Groups[2].Value.ToUpperInvariant() switch
            {
                "" or "B" => 1L,
                "KB" => 1000L,
                "KIB" or "K" => 1024L,
                "MB" => 1000L * 1000,
                "MIB" or "M" => 1024L * 1024,
                "GB" => 1000L * 1000 * 1000,
                _ => 1024L * 1024 * 1024,
            };
            var bytes = value * unit;
            if (bytes is >= 1 and <= long.MaxValue)
            {
                return (long)bytes;
            }
        }

        result.AddError($"'{text}' is not a positive size (examples: 4MiB, 256MB, 65536).");
        return default;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*([KMG]i?B|[KMG]|B)?$", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h)$")]
    private static partial Regex DurationPattern();
}
