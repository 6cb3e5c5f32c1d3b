using Pigato.Routing;
using BenchmarkDotNet.Attributes;
using Pigato.Internal;

namespace Pigato.Benchmarks;

/// <summary>
/// Service resolution per request once cached: it must not grow with the number of services
/// (exact, wildcard and semver names among 1 to 1,000 live services).
/// </summary>
[MemoryDiagnoser]
public class DispatcherBenchmarks
{
    private readonly ServiceResolver _resolver = new();
    private ServiceEntry _exact = null!;
    private ServiceEntry _wildcard = null!;
    private ServiceEntry _semver = null!;

    [Params(1, 100, 1000)]
    public int Services { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < Services; i++)
        {
            Live($"service-{i}");
        }

        _exact = Live("echo");
        Live("ech*");
        Live("svc@1.2.3");
        Live("svc@1.4.0");
        _wildcard = new ServiceEntry("echelon");
        _semver = new ServiceEntry("svc@^1.2.x");
    }

    [Benchmark(Baseline = true)]
    public int Exact() => _resolver.CandidatesFor(_exact).Count;

    [Benchmark]
    public int Wildcard() => _resolver.CandidatesFor(_wildcard).Count;

    [Benchmark]
    public int Semver() => _resolver.CandidatesFor(_semver).Count;

    private ServiceEntry Live(string name)
    {
        var entry = new ServiceEntry(name);
        entry.Workers.Add(new BrokerWorker("w-" + name, [], entry, 3, 1, long.MaxValue));
        _resolver.Update(entry);
        return entry;
    }
}
