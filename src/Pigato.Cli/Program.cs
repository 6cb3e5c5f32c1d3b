using Pigato.Cli;

// NetMQ's latency halves when socket completions run inline (NETMQ-NOTES.md); it must be set before any socket exists.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

return await PigatoCli.RunAsync(args, Console.Out, Console.Error);
