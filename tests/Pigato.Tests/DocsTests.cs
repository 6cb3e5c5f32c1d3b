namespace Pigato.Tests;

/// <summary>The C# in the README and the docs is compiled: the README's example is docs/samples/QuickStart.cs word for word, the pages include samples.</summary>
public class DocsTests
{
    [Fact]
    public void ReadmeExample_IsTheCompiledQuickStartSample()
    {
        var root = Repository.Root;
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var sample = File.ReadAllText(Path.Combine(root, "docs", "samples", "QuickStart.cs")).TrimEnd('\n');

        Assert.Contains("```csharp\n" + sample + "\n```", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void DocsPages_PullTheirCSharpFromTheCompiledSamples()
    {
        var docs = Path.Combine(Repository.Root, "docs");
        var inline = Directory.EnumerateFiles(docs, "*.md", SearchOption.AllDirectories)
            .Where(file => !file.Contains("_site", StringComparison.Ordinal) && File.ReadAllText(file).Contains("```csharp", StringComparison.Ordinal))
            .Select(file => Path.GetRelativePath(docs, file));

        Assert.Empty(inline);
    }

    [Fact]
    public void Readme_StaysShort()
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root, "README.md")).Length;

        Assert.InRange(lines, 1, 200);
    }
}
