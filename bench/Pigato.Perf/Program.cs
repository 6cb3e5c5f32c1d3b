// The benchmark: see PerfProgram, or run with --help.
return await Pigato.Perf.PerfProgram.MainAsync(args);
