using Pigato.Protocol;

namespace Pigato.Fuzz;

/// <summary>
/// A v1 message in a fuzz input: each frame is a length byte and that many bytes (the last one takes what is left),
/// so that the fuzzer can add, drop and resize frames by changing a byte.
/// </summary>
internal sealed class Frames : IFrameSource
{
    private readonly byte[] _bytes;
    private readonly List<Range> _frames = [];

    private Frames(byte[] bytes) => _bytes = bytes;

    public int Count => _frames.Count;

    public ReadOnlySpan<byte> this[int index] => _bytes.AsSpan()[_frames[index]];

    public static Frames Split(ReadOnlySpan<byte> input, int maxFrames)
    {
        var frames = new Frames(input.ToArray());
        var at = 0;
        while (at < input.Length && frames._frames.Count < maxFrames)
        {
            var length = Math.Min(input[at], input.Length - at - 1);
            frames._frames.Add(new Range(at + 1, at + 1 + length));
            at += 1 + length;
        }

        return frames;
    }

    /// <summary>The input that <see cref="Split"/> reads back as <paramref name="frames"/> (each at most 255 bytes).</summary>
    public static byte[] Join(IEnumerable<ReadOnlyMemory<byte>> frames)
    {
        var output = new List<byte>();
        foreach (var frame in frames)
        {
            var bytes = frame.Span[..Math.Min(frame.Length, 255)];
            output.Add((byte)bytes.Length);
            output.AddRange(bytes);
        }

        return [.. output];
    }
}
