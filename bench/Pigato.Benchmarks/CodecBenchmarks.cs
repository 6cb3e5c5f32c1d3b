using Pigato.Routing;
using System.Text;
using BenchmarkDotNet.Attributes;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato.Benchmarks;

/// <summary>The pure protocol code on the broker's path: decode a request, read its options, encode it for a worker.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private static readonly byte[] Service = "echo"u8.ToArray();
    private static readonly byte[] Rid = Encoding.UTF8.GetBytes(Guid.NewGuid().ToString());
    private static readonly byte[] Data = "\"foo\""u8.ToArray();
    private static readonly byte[] Options = "{\"timeout\":60000,\"retry\":0,\"workerId\":null,\"tenant\":\"acme\"}"u8.ToArray();
    private readonly Frames _request = new(["C"u8.ToArray(), "2"u8.ToArray(), Service, Rid, Data, Options]);
    private readonly CountingWriter _writer = new();

    [Benchmark(Baseline = true)]
    public bool DecodeClientRequest() => PigatoDecoder.ForBroker(_request).IsValid;

    [Benchmark]
    public long ParseRequestOptions() => BrokerRequestOptions.Parse(Options).Timeout;

    [Benchmark]
    public int EncodeWorkerRequest()
    {
        PigatoEncoder.WorkerRequest(_writer, Rid, Service, Rid, Data, Options);
        return _writer.Frames;
    }

    private sealed class Frames(byte[][] frames) : IFrameSource
    {
        public int Count => frames.Length;

        public ReadOnlySpan<byte> this[int index] => frames[index];
    }

    private sealed class CountingWriter : IFrameWriter
    {
        public int Frames { get; private set; }

        public void Write(ReadOnlyMemory<byte> frame, bool more) => Frames += frame.Length > 0 ? 1 : 0;
    }
}
