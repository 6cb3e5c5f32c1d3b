namespace Pigato.Tests;

/// <summary>The README's example is the compiled sample (docs/samples/QuickStart.cs), word for word.</summary>
public class DocsTests
{
    [Fact]
    public void ReadmeExample_IsTheCompiledQuickStartSample()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var sample = File.ReadAllText(Path.Combine(root, "docs", "samples", "QuickStart.cs")).TrimEnd('\n');

        Assert.Contains("```csharp\n" + sample + "\n```", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void Readme_StaysShort()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot(), "README.md")).Length;

        Assert.InRange(lines, 1, 200);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Pigato.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Pigato.slnx not found above " + AppContext.BaseDirectory);
    }
}
