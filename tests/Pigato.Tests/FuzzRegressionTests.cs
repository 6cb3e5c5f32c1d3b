using Pigato.Fuzz;

namespace Pigato.Tests;

/// <summary>Every input the fuzzer ever found a crash or a hang with (tests/Pigato.Fuzz/regressions) is read again without one.</summary>
public class FuzzRegressionTests
{
    public static TheoryData<string> Inputs()
    {
        var inputs = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Repository.Root, "tests", "Pigato.Fuzz", "regressions")).Order(StringComparer.Ordinal))
        {
            inputs.Add(Path.GetFileName(file));
        }

        return inputs;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void RegressionInput_IsReadWithoutAnException(string name) =>
        FuzzTargets.Run(File.ReadAllBytes(Path.Combine(Repository.Root, "tests", "Pigato.Fuzz", "regressions", name)));
}
