using Pigato.Protocol.Compact;

namespace Pigato.Tests.Protocol;

/// <summary>Reads a v2 batch frame back as its messages, for the batch tests.</summary>
internal static class BatchFrames
{
    /// <summary>The messages of <paramref name="frame"/>, in order; fails the test unless it is a well-formed batch.</summary>
    public static List<byte[]> Messages(byte[] frame)
    {
        Assert.True(CompactCodec.IsBatch(frame));
        var messages = new List<byte[]>();
        var reader = new CompactMessages(frame);
        while (reader.MoveNext())
        {
            messages.Add(frame[reader.Current]);
        }

        Assert.False(reader.Malformed);
        return messages;
    }
}
