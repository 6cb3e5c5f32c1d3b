using System.Text;
using Pigato.Protocol;

namespace Pigato.Tests;

/// <summary>An in-memory message: collects written frames and serves them back to the decoder.</summary>
internal sealed class FrameList : IFrameWriter, IFrameSource
{
    private readonly List<byte[]> _frames = [];
    private readonly List<bool> _more = [];

    public FrameList(params string[] frames)
    {
        foreach (var frame in frames)
        {
            _frames.Add(Encoding.UTF8.GetBytes(frame));
            _more.Add(true);
        }
    }

    public int Count => _frames.Count;

    public ReadOnlySpan<byte> this[int index] => _frames[index];

    public void Write(ReadOnlyMemory<byte> frame, bool more)
    {
        _frames.Add(frame.ToArray());
        _more.Add(more);
    }

    /// <summary>The frames as text.</summary>
    public string[] Texts => _frames.Select(f => Encoding.UTF8.GetString(f)).ToArray();

    /// <summary>True when only the last frame was written with more = false.</summary>
    public bool IsOneMessage => _more.Count > 0 && _more.Take(_more.Count - 1).All(m => m) && !_more[^1];
}
