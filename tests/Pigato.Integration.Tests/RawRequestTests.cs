using System.Buffers;
using System.Text;
using System.Text.Json;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>Requests and replies as bytes: unchanged both ways, and a handed-over buffer is written out and given back once.</summary>
public class RawRequestTests
{
    /// <summary>Not JSON, with every byte value: nothing on the way may read or change it.</summary>
    private static readonly byte[] Payload = [.. Enumerable.Range(0, 256).Select(i => (byte)i), .. "not json"u8];

    [Theory]
    [InlineData(Framing.Auto)]
    [InlineData(Framing.V1)]
    public async Task RawRequest_ToRawWorker_BytesComeBackUnchanged(Framing framing)
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync(Worker.CreateRaw(harness.WorkerOptions("bytes") with { Framing = framing }, (data, reply, _) => reply.EndRawAsync(data)));
        var client = await harness.StartClientAsync(o => o with { Framing = framing });

        var reply = await client.RequestRawAsync("bytes", Payload, cancellationToken: Bounded.Token());

        Assert.Equal(Payload, reply.Data.ToArray());
        Assert.True(reply.IsFinal);
    }

    [Theory]
    [InlineData(Framing.Auto)]
    [InlineData(Framing.V1)]
    public async Task HandedOverBuffers_AreSentAndEachOwnerDisposedOnce(Framing framing)
    {
        await using var harness = await PigatoHarness.StartAsync();
        var owners = new List<CountingOwner>();
        await harness.StartWorkerAsync(Worker.CreateRaw(harness.WorkerOptions("pooled") with { Framing = framing }, async (_, reply, _) =>
        {
            for (var part = 0; part < 3; part++)
            {
                var partial = CountingOwner.Rent(owners, Encoding.UTF8.GetBytes($"{part}"));
                await reply.WriteRawAsync(partial.Memory[..1], partial);
            }

            var final = CountingOwner.Rent(owners, "\"end\""u8);
            await reply.EndRawAsync(final.Memory[..5], final);

            // After the end nothing more is sent, but the buffer handed over is still given back.
            var late = CountingOwner.Rent(owners, "\"late\""u8);
            await Assert.ThrowsAsync<InvalidOperationException>(() => reply.EndRawAsync(late.Memory[..6], late).AsTask());
        }));
        var client = await harness.StartClientAsync(o => o with { Framing = framing });

        var replies = new List<string>();
        await foreach (var reply in client.RequestStreamAsync<JsonElement>("pooled", null, cancellationToken: Bounded.Token()))
        {
            replies.Add(reply.Data.GetRawText());
        }

        Assert.Equal(["0", "1", "2", "\"end\""], replies);
        await Bounded.UntilAsync(
            () =>
            {
                lock (owners)
                {
                    return owners.Count == 5 && owners.All(o => o.Disposals == 1);
                }
            },
            "every handed-over buffer was given back once");
    }

    /// <summary>A pooled buffer that counts how often it is given back (once, or the pool would hand it out twice).</summary>
    private sealed class CountingOwner : IDisposable
    {
        private readonly IMemoryOwner<byte> _rented;
        private int _disposals;

        private CountingOwner(IMemoryOwner<byte> rented) => _rented = rented;

        public Memory<byte> Memory => _rented.Memory;

        public int Disposals => Volatile.Read(ref _disposals);

        public static CountingOwner Rent(List<CountingOwner> owners, ReadOnlySpan<byte> content)
        {
            var owner = new CountingOwner(MemoryPool<byte>.Shared.Rent(content.Length));
            content.CopyTo(owner.Memory.Span);
            lock (owners)
            {
                owners.Add(owner);
            }

            return owner;
        }

        public void Dispose()
        {
            if (Interlocked.Increment(ref _disposals) == 1)
            {
                _rented.Dispose();
            }
        }
    }
}
