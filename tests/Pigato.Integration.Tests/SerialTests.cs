namespace Pigato.Integration.Tests;

/// <summary>Tests that measure the whole process run in this collection, never beside another test.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTests
{
    public const string Name = "serial";
}
