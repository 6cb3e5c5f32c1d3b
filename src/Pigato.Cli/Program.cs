using System.CommandLine;
using Pigato.Cli.Commands;

// NetMQ's latency halves when socket completions run inline (NETMQ-NOTES.md); it must be set before any socket exists.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

var root = new RootCommand("pigato: PIGATO request/reply microservices on ZeroMQ, for .NET.");
root.Subcommands.Add(DemoCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
