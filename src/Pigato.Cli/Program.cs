using System.Runtime.InteropServices;
using Pigato.Cli;

// NetMQ's latency halves when socket completions run inline (NETMQ-NOTES.md); it must be set before any socket exists.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

// Ctrl+C and SIGTERM (systemd, Kubernetes, kill) stop long-running commands cleanly: the broker answers what it holds,
// workers drain. The process ends when the command has returned, not when the signal arrives.
using var stop = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
return await PigatoCli.RunAsync(args, Console.Out, Console.Error, stop.Token);
