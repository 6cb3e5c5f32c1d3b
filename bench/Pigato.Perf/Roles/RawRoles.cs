using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace Pigato.Perf.Roles;

/// <summary>
/// Raw-socket peers, the fastest clients and workers possible, for two framings:
/// <c>pigato</c> (PIGATO's 6- to 8-frame messages, byte for byte) and <c>lean</c>, the prototype of a
/// leaner framing between .NET peers (one body frame: request id + data; the broker adds only routing
/// frames). Not in the library: it measures what such a framing would gain.
/// </summary>
internal static class RawRoles
{
    private static readonly byte[] Options = "{\"timeout\":60000,\"retry\":0}"u8.ToArray();
    private static readonly byte[] NoOptions = "{}"u8.ToArray();

    private static readonly byte[] Concurrency = "{\"concurrency\":-1}"u8.ToArray();

    public static async Task<int> WorkerAsync(string endpoint, string framing, string transport)
    {
        using var worker = RawDealer.Connect(endpoint, transport);
        if (framing == "lean")
        {
            worker.Send("R"u8.ToArray());
        }
        else
        {
            worker.Send("W"u8.ToArray(), "1"u8.ToArray(), "echo"u8.ToArray(), Concurrency);
        }

        var stopping = false;
        var thread = new Thread(() =>
        {
            var frames = new List<byte[]>(9);
            while (!Volatile.Read(ref stopping))
            {
                if (!worker.TryReceive(TimeSpan.FromMilliseconds(100), ref frames))
                {
                    continue;
                }

                if (framing == "lean" && frames.Count == 2)
                {
                    worker.Send(frames[0], frames[1]); // [cid, body] back as it came
                }
                else if (frames.Count >= 8 && frames[1].AsSpan().SequenceEqual("2"u8))
                {
                    // [W, 2, cid, service, "", rid, data, opts] -> [W, 3, cid, "", rid, 0, data, {}]
                    worker.Send("W"u8.ToArray(), "3"u8.ToArray(), frames[2], [], frames[5], "0"u8.ToArray(), frames[6], NoOptions);
                }
                else if (frames.Count == 2 && frames[1].AsSpan().SequenceEqual("4"u8))
                {
                    worker.Send("W"u8.ToArray(), "4"u8.ToArray(), [], Concurrency);
                }
            }
        })
        { IsBackground = true };
        thread.Start();
        RoleHost.Emit(new { @event = "ready" });
        await RoleHost.ServeAsync();
        Volatile.Write(ref stopping, true);
        thread.Join();
        return 0;
    }

    public static async Task<int> ClientAsync(string endpoint, string framing, string transport, string mode, int count, int inFlight, int size)
    {
        using var client = RawDealer.Connect(endpoint, transport);
        var data = Encoding.UTF8.GetBytes("\"" + new string('x', size) + "\"");
        var warmUp = await Load.WarmUpAsync((n, window) => Task.FromResult(Run(client, framing, data, n, window)), count, inFlight);
        await RoleHost.ServeLoadAsync(warmUp, () => Task.FromResult(Run(client, framing, data, count, mode == "latency" ? 1 : inFlight)));
        return 0;
    }

    /// <summary>Keeps <paramref name="inFlight"/> requests outstanding on one thread until <paramref name="count"/> are answered.</summary>
    private static LoadResult Run(RawDealer client, string framing, byte[] data, int count, int inFlight)
    {
        var sentAt = new long[count];
        var latencies = new long[count];
        var clock = Stopwatch.StartNew();
        var sent = 0;
        var done = 0;
        var frames = new List<byte[]>(8);
        void Send()
        {
            var id = sent++;
            sentAt[id] = Stopwatch.GetTimestamp();
            var rid = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(rid, id);
            if (framing == "lean")
            {
                var body = new byte[8 + data.Length];
                rid.CopyTo(body, 0);
                data.CopyTo(body, 8);
                client.Send(body);
            }
            else
            {
                client.Send("C"u8.ToArray(), "2"u8.ToArray(), "echo"u8.ToArray(), rid, data, Options);
            }
        }

        while (sent < Math.Min(inFlight, count))
        {
            Send();
        }

        while (done < count)
        {
            if (!client.TryReceive(TimeSpan.FromSeconds(30), ref frames))
            {
                throw new TimeoutException($"no reply after {done} of {count}");
            }

            var rid = framing == "lean" ? frames[0].AsSpan(0, 8) : frames.Count >= 5 ? frames[3] : default;
            if (rid.Length != 8)
            {
                continue; // a heartbeat
            }

            var id = (int)BinaryPrimitives.ReadInt64LittleEndian(rid);
            latencies[done++] = Stopwatch.GetTimestamp() - sentAt[id];
            if (sent < count)
            {
                Send();
            }
        }

        return Load.Summarize(latencies, clock.Elapsed.TotalSeconds, 0);
    }
}
