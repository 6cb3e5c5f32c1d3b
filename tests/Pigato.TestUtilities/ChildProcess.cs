using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pigato.TestUtilities;

/// <summary>
/// A program started by a test or a benchmark: every line it prints (standard output and error) kept with when it
/// arrived, waits for a line that are bounded, and signals sent by its pid (SIGKILL as a crash, SIGSTOP as a frozen VM,
/// SIGTERM as a service manager): never by name.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private const int SigTerm = 15;
    private const int SigStop = 19;
    private const int SigCont = 18;

    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    /// <summary>What it printed, line by line.</summary>
    public ConcurrentQueue<string> Output { get; } = new();

    /// <summary>What it printed with when it arrived (<see cref="Stopwatch"/> timestamps), for timing what a peer noticed.</summary>
    public ConcurrentQueue<(long At, string Line)> Timeline { get; } = new();

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The CPU time it used so far (user + system).</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Its standard input, when started with <c>redirectInput</c>.</summary>
    public StreamWriter StandardInput => _process.StandardInput;

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="args"/>; <paramref name="onLine"/> sees each line as it
    /// arrives (null at the end of standard output), besides <see cref="Output"/>.
    /// </summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null, Action<string?>? onLine = null, bool redirectInput = false)
    {
        var start = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var child = new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException($"{fileName} could not be started."));
        void Line(string? line, bool fromOutput)
        {
            if (line is not null)
            {
                child.Timeline.Enqueue((Stopwatch.GetTimestamp(), line));
                child.Output.Enqueue(line);
            }

            if (line is not null || fromOutput)
            {
                onLine?.Invoke(line);
            }
        }

        child._process.OutputDataReceived += (_, e) => Line(e.Data, fromOutput: true);
        child._process.ErrorDataReceived += (_, e) => Line(e.Data, fromOutput: false);
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until a line containing <paramref name="text"/> is printed; fails when the process exits first or after <paramref name="bound"/>.</summary>
    public async Task WaitForLineAsync(string text, TimeSpan bound, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Any(line => line.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{what}: exited with {_process.ExitCode} before printing '{text}': {Tail()}");
            }

            if (clock.Elapsed > bound)
            {
                throw new TimeoutException($"{what}: no line with '{text}' within {bound.TotalSeconds:0} s: {Tail()}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Waits (bounded) until the process has exited by itself and all its output has been read; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The process did not exit within {bound.TotalSeconds:0} s: {Tail()}");
        }

        return _process.ExitCode;
    }

    /// <summary>The last lines it printed, for failure messages.</summary>
    public string Tail(int lines = 20) => string.Join(Environment.NewLine, Output.TakeLast(lines));

    /// <summary>SIGSTOP, by pid: the process freezes as a hung VM does, its sockets open and silent.</summary>
    public void Freeze() => Signal(SigStop);

    /// <summary>SIGCONT, by pid: a frozen process goes on where it stopped.</summary>
    public void Thaw() => Signal(SigCont);

    /// <summary>SIGTERM, by pid (as systemd or Kubernetes stop a service); the exit code once it has exited.</summary>
    public async Task<int> TerminateAsync(TimeSpan bound)
    {
        Signal(SigTerm);
        return await WaitForExitAsync(bound);
    }

    /// <summary>SIGKILL, by pid (and its children's): the process vanishes without a word, as in a crash.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Signal(int signal)
    {
        if (!_process.HasExited && SendSignal(_process.Id, signal) != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
