using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Pigato.TestUtilities;

namespace Pigato.Interop.Tests;

/// <summary>
/// One Node.js PIGATO 0.0.46 process (tests/interop/peer.js): a broker, a worker or a client, driven
/// through JSON lines on stdin/stdout. Disposing stops it by process id and prints everything it said.
/// </summary>
internal sealed class NodePeer : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly ITestOutputHelper _output;
    private readonly Channel<JsonElement> _events = Channel.CreateUnbounded<JsonElement>();
    private ChildProcess _process = null!;
    private string _name;
    private int _nextId;

    private NodePeer(ITestOutputHelper output, string name)
    {
        _output = output;
        _name = name;
    }

    /// <summary>The folder holding peer.js and its node_modules.</summary>
    public static string InteropDirectory { get; } = FindInteropDirectory();

    /// <summary>Why these tests cannot run here, or null when they can. In CI a missing Node.js is a failure, not a skip.</summary>
    public static string? Unavailable()
    {
        string? reason = null;
        if (!CanRun("node", "--version"))
        {
            reason = "Node.js (node) is not on PATH";
        }
        else if (!Directory.Exists(Path.Combine(InteropDirectory, "node_modules", "pigato")))
        {
            reason = $"the npm packages are not installed: run 'npm ci' in {InteropDirectory}";
        }

        if (reason is not null && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
        {
            throw new InvalidOperationException("Interop tests must run in CI, but " + reason + ".");
        }

        return reason;
    }

    /// <summary>Starts <c>node peer.js args...</c> and waits for its ready event.</summary>
    public static Task<NodePeer> StartAsync(ITestOutputHelper output, params string[] args) => StartAsync(output, environment: null, args);

    /// <summary>Starts <c>node peer.js args...</c> with more environment (the zmq shim's CURVE keys) and waits for its ready event.</summary>
    public static async Task<NodePeer> StartAsync(ITestOutputHelper output, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var peer = new NodePeer(output, $"node {args[0]}");
        peer._process = ChildProcess.Start("node", ["peer.js", .. args], InteropDirectory, environment, onLine: peer.OnLine, redirectInput: true);
        peer._name += $" (pid {peer._process.Pid})";
        peer.Ready = await peer.WaitForAsync(e => e.TryGetProperty("event", out var ev) && ev.GetString() == "ready", "the peer to be ready");
        return peer;
    }

    /// <summary>The ready event (a worker's carries its id).</summary>
    public JsonElement Ready { get; private set; }

    /// <summary>Events seen so far, for assertions on what the peer received.</summary>
    public List<JsonElement> Seen { get; } = [];

    /// <summary>Waits for the next event matching <paramref name="match"/> (earlier non-matching events are kept in <see cref="Seen"/>).</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, string what)
    {
        using var timeout = new CancellationTokenSource(Bound);
        try
        {
            while (true)
            {
                var next = await _events.Reader.ReadAsync(timeout.Token);
                lock (Seen)
                {
                    Seen.Add(next);
                }

                if (match(next))
                {
                    return next;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{_name}: no event for '{what}' within {Bound.TotalSeconds} s.");
        }
    }

    /// <summary>How many events named <paramref name="eventName"/> the peer has printed so far.</summary>
    public int Count(string eventName)
    {
        lock (Seen)
        {
            while (_events.Reader.TryRead(out var next))
            {
                Seen.Add(next);
            }

            return Seen.Count(e => e.TryGetProperty("event", out var ev) && ev.GetString() == eventName);
        }
    }

    /// <summary>Client peers: sends one command and returns its result line.</summary>
    public Task<JsonElement> RequestAsync(object command)
    {
        var id = Interlocked.Increment(ref _nextId);
        var line = JsonSerializer.SerializeToNode(command)!.AsObject();
        line["id"] = id;
        _process.StandardInput.WriteLine(line.ToJsonString());
        return WaitForAsync(e => e.TryGetProperty("id", out var got) && got.GetInt32() == id, $"the result of command {id}");
    }

    /// <summary>Asks the peer to stop cleanly (a worker sends DISCONNECT) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        try
        {
            await _process.StandardInput.WriteLineAsync("stop");
            await _process.WaitForExitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or IOException)
        {
            _process.Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        _output.WriteLine($"--- {_name} said:");
        foreach (var line in _process.Output)
        {
            _output.WriteLine(line);
        }
    }

    private void OnLine(string? line)
    {
        if (line is not null && line.StartsWith('{'))
        {
            try
            {
                _events.Writer.TryWrite(JsonDocument.Parse(line).RootElement.Clone());
            }
            catch (JsonException)
            {
                // Not one of ours (a library's own output): kept in the transcript only.
            }
        }
    }

    private static bool CanRun(string file, string args)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, UseShellExecute = false });
            return process is not null && process.WaitForExit(10_000) && process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static string FindInteropDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "interop");
            if (File.Exists(Path.Combine(candidate, "peer.js")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("tests/interop/peer.js not found above " + AppContext.BaseDirectory);
    }
}
