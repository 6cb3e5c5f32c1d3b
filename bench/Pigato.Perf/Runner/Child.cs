using System.Text.Json;
using System.Threading.Channels;
using Pigato.TestUtilities;

namespace Pigato.Perf.Runner;

/// <summary>One benchmark process (a role of this program, node, nats-server): JSON lines out, commands in, CPU time.</summary>
internal sealed class Child : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(5);
    private readonly Channel<JsonElement> _events = Channel.CreateUnbounded<JsonElement>();
    private ChildProcess _process = null!;

    private Child(string name, bool isRole)
    {
        Name = name;
        IsRole = isRole;
    }

    public string Name { get; }

    /// <summary>A role of this program: it answers <c>stats</c> (allocations, GC counts).</summary>
    public bool IsRole { get; }

    /// <summary>CPU time used so far (user + system).</summary>
    public TimeSpan Cpu => _process.HasExited ? TimeSpan.Zero : _process.ProcessorTime;

    /// <summary>Starts a role of the benchmark in a process of its own.</summary>
    /// <remarks>
    /// From the benchmark's own executable it starts itself; hosted by another program (<c>pigato bench</c>)
    /// it runs Pigato.Perf.dll with the host's runtime configuration and dependencies, which include it.
    /// </remarks>
    public static Child Role(string name, params string[] args) => Role(name, environment: null, args);

    /// <summary>Starts a role of the benchmark with <paramref name="environment"/> added to what it inherits.</summary>
    public static Child Role(string name, IReadOnlyDictionary<string, string>? environment, string[] args)
    {
        var self = Environment.ProcessPath!;
        var perf = typeof(Child).Assembly;
        var entry = System.Reflection.Assembly.GetEntryAssembly();
        if (entry is not null && entry != perf)
        {
            string[] exec = ["exec", "--runtimeconfig", Path.ChangeExtension(entry.Location, ".runtimeconfig.json"), "--depsfile", Path.ChangeExtension(entry.Location, ".deps.json"), perf.Location, "role"];
            return Start(name, "dotnet", [.. exec, .. args], null, environment, isRole: true);
        }

        var isDotnetHost = Path.GetFileNameWithoutExtension(self) == "dotnet";
        string[] prefix = isDotnetHost ? [perf.Location, "role"] : ["role"];
        return Start(name, self, [.. prefix, .. args], null, environment, isRole: true);
    }

    public static Child Start(string name, string file, IEnumerable<string> args, string? workingDirectory) => Start(name, file, args, workingDirectory, null, isRole: false);

    private static Child Start(string name, string file, IEnumerable<string> args, string? workingDirectory, IReadOnlyDictionary<string, string>? environment, bool isRole)
    {
        var child = new Child(name, isRole);
        child._process = ChildProcess.Start(file, args, workingDirectory, environment, onLine: child.OnLine, redirectInput: true);
        return child;
    }

    /// <summary>Waits for a JSON line whose <c>event</c> (or, when <paramref name="id"/> is given, <c>id</c>) matches.</summary>
    public async Task<JsonElement> WaitForAsync(string? eventName, int? id = null)
    {
        using var timeout = new CancellationTokenSource(Bound);
        try
        {
            while (true)
            {
                var e = await _events.Reader.ReadAsync(timeout.Token);
                if (id is { } wanted ? e.TryGetProperty("id", out var got) && got.GetInt32() == wanted
                    : e.TryGetProperty("event", out var ev) && ev.GetString() == eventName)
                {
                    return e;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new InvalidOperationException($"{Name}: no '{eventName ?? "id " + id}' line. It printed:\n{_process.Tail()}");
        }
    }

    public void Send(string line) => _process.StandardInput.WriteLine(line);

    /// <summary>SIGKILL by pid, as in a crash (the failover scenario); disposing afterwards is harmless.</summary>
    public void Kill() => _process.Kill();

    public async Task<JsonElement> StatsAsync()
    {
        Send("stats");
        return await WaitForAsync("stats");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                Send("stop");
                await _process.WaitForExitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is TimeoutException or IOException)
            {
                _process.Kill();
            }
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _events.Writer.TryComplete();
            return;
        }

        if (line.StartsWith('{'))
        {
            try
            {
                _events.Writer.TryWrite(JsonDocument.Parse(line).RootElement.Clone());
            }
            catch (JsonException)
            {
                // not ours
            }
        }
    }
}
