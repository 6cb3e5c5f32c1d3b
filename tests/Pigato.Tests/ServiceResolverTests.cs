using Pigato.Routing;
using Pigato.Internal;

namespace Pigato.Tests;

public class ServiceResolverTests
{
    private readonly ServiceResolver _resolver = new();

    private ServiceEntry Live(string name)
    {
        var entry = new ServiceEntry(name);
        entry.Workers.Add(new BrokerWorker("w-" + name, [], entry, 3, 1, long.MaxValue));
        _resolver.Update(entry);
        return entry;
    }

    private string[] Resolve(string requested) => _resolver.CandidatesFor(new ServiceEntry(requested)).Select(s => s.Name).ToArray();

    [Fact]
    public void ExactName_IsPreferredOverWildcard()
    {
        Live("ech*");
        var exact = Live("echo");

        Assert.Equal(["echo"], _resolver.CandidatesFor(exact).Select(s => s.Name));
    }

    [Theory]
    [InlineData("echx", "ech*")]
    [InlineData("echo", "echo*")]
    [InlineData("echoes", "echo*")]
    [InlineData("ech*", "ech*")]
    [InlineData("ec", null)]
    [InlineData("other", null)]
    public void Wildcard_LongestMatchingPrefixWins(string requested, string? expected)
    {
        var withoutWorkers = Live("e*");
        withoutWorkers.Workers.Clear();
        _resolver.Update(withoutWorkers);
        Live("ech*");
        Live("echo*");
        Live("echoesxyz*");

        Assert.Equal(expected is null ? [] : [expected], Resolve(requested));
    }

    [Theory]
    [InlineData("svc@1.2.3", new[] { "svc@1.2.3" })]
    [InlineData("svc@^1.2.x", new[] { "svc@1.4.0", "svc@1.2.3" })]
    [InlineData("svc@~1.2", new[] { "svc@1.2.3" })]
    [InlineData("svc@>=1.0.0 <2.0.0", new[] { "svc@1.4.0", "svc@1.2.3" })]
    [InlineData("svc@1.x", new[] { "svc@1.4.0", "svc@1.2.3" })]
    [InlineData("svc@^3.0.0", new string[0])]
    [InlineData("other@^1.0.0", new string[0])]
    public void Semver_SatisfyingVersions_HighestFirst(string requested, string[] expected)
    {
        Live("svc@1.2.3");
        Live("svc@1.4.0");
        Live("svc@2.0.0");

        Assert.Equal(expected, Resolve(requested));
    }

    [Fact]
    public void Cache_IsInvalidatedWhenAServiceGainsOrLosesWorkers()
    {
        var requested = new ServiceEntry("echo");
        var wildcard = Live("ech*");
        Assert.Equal([wildcard], _resolver.CandidatesFor(requested));
        Assert.Contains(requested, wildcard.Dependents);

        var exact = Live("echo");
        Assert.Equal([exact], _resolver.CandidatesFor(exact));

        wildcard.Workers.Clear();
        Assert.True(_resolver.Update(wildcard));
        Assert.Empty(_resolver.CandidatesFor(new ServiceEntry("echx")));
    }

    [Fact]
    public void Cache_IsReusedWhileNothingChanges()
    {
        Live("svc@1.0.0");
        var requested = new ServiceEntry("svc@^1");
        var first = _resolver.CandidatesFor(requested);

        Assert.Same(first, _resolver.CandidatesFor(requested));
    }
}
