using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Pigato.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
