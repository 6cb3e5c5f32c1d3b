using Pigato.Fuzz;
using SharpFuzz;

// Coverage-guided fuzzing of Pigato's decoders with AFL++ (tests/Pigato.Fuzz/run builds, instruments and runs it):
//   afl                  the target AFL runs (SharpFuzz's out-of-process loop, an input per run on standard input)
//   replay PATH...       runs each input file (or every file of a folder) once; exits 1 naming the first that throws
//   seeds DIR            writes the seed corpus: valid messages of every kind, made by Pigato's own encoders
switch (args)
{
    case ["afl"]:
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            FuzzTargets.Run(buffer.ToArray());
        });
        return 0;

    case ["replay", .. var paths] when paths.Length > 0:
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p) : [p]).Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            try
            {
                FuzzTargets.Run(File.ReadAllBytes(file));
            }
#pragma warning disable CA1031 // Any exception is the finding to report.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Console.Error.WriteLine($"{file}: {e}");
                return 1;
            }
        }

        Console.WriteLine($"{files.Count} input(s) replayed, none threw");
        return 0;

    case ["seeds", var directory]:
        var written = Seeds.Write(directory);
        Console.WriteLine($"{written} seed(s) written to {directory}");
        return 0;

    default:
        Console.Error.WriteLine("usage: Pigato.Fuzz afl | replay PATH... | seeds DIR");
        return 2;
}
