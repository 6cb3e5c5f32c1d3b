namespace Pigato.Tests;

/// <summary>The C# in the README and the docs is compiled: the README's example is docs/samples/QuickStart.cs word for word, the pages include samples.</summary>
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
    public void DocsPages_PullTheirCSharpFromTheCompiledSamples()
    {
        var docs = Path.Combine(RepositoryRoot(), "docs");
        var inline = Directory.EnumerateFiles(docs, "*.md", SearchOption.AllDirectories)
            .Where(file => !file.Contains("_site", StringComparison.Ordinal) && File.ReadAllText(file).Contains("```csharp", StringComparison.Ordinal))
            .Select(file => Path.GetRelativePath(docs, file));

        Assert.Empty(inline);
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
