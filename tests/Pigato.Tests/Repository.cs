namespace Pigato.Tests;

/// <summary>The repository the tests run from, for tests that read its files (docs, fuzz regressions).</summary>
internal static class Repository
{
    /// <summary>The folder holding Pigato.slnx, above the test assembly.</summary>
    public static string Root { get; } = Find();

    private static string Find()
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
