using System.Globalization;

namespace Pigato.Perf.Runner;

/// <summary>
/// A garbage collector setting given to every .NET process of a run (<c>--gc</c>), Pigato's and NATS.Net's alike, and named
/// in every row: the rows without it run as the benchmark's project sets (workstation GC, not concurrent).
/// </summary>
/// <param name="Label">What the rows' system names get, in brackets.</param>
/// <param name="Variable">The runtime's environment variable.</param>
/// <param name="Value">Its value.</param>
internal sealed record GcSetting(string Label, string Variable, string Value)
{
    /// <summary><c>server</c> (Server GC) or <c>gen0:MIB</c> (the young generation's smallest budget, in MiB); null for anything else.</summary>
    public static GcSetting? Parse(string text) =>
        text == "server" ? new("server GC", "DOTNET_gcServer", "1")
        : text.StartsWith("gen0:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(5), CultureInfo.InvariantCulture, out var mib) && mib is > 0 and <= 1024
            ? new($"gen0 {mib} MiB", "DOTNET_GCgen0size", (mib * 1024L * 1024).ToString("x", CultureInfo.InvariantCulture))
            : null;

    /// <summary>A system's name in the rows this setting applies to.</summary>
    public string Name(string system) => $"{system} [{Label}]";

    /// <summary>The system a row's name is of (<see cref="Name"/> undone).</summary>
    public static string SystemOf(string name) => name.Split(" [", 2)[0];

    /// <summary>Said under the table.</summary>
    public override string ToString() => $"every .NET process ran with {Variable}={Value} ({Label}), as the rows' names say";
}
