using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;

namespace Pigato.Perf.Roles;

/// <summary>
/// The lean-framing prototype (see <see cref="LeanForwarderRole"/> and <see cref="RawRoles"/>) on native libzmq instead of
/// NetMQ, frame for frame the same exchange: what the same framing costs without NetMQ's per-frame overhead.
/// Benchmark only.
/// </summary>
internal static class NativeLeanRoles
{
    private const int BufferSize = 64 * 1024;

    /// <summary>ROUTER: a worker registers with <c>R</c>; [client, body] goes to the next worker as [worker, client, body], and back.</summary>
    public static async Task<int> BrokerAsync(string endpoint)
    {
        var context = NativeZmq.Context();
        var router = NativeZmq.Socket(context, NativeZmq.Router);
        // libzmq's ephemeral port is "*", where the benchmark passes NetMQ's ":0".
        var bound = NativeZmq.Bind(router, endpoint.EndsWith(":0", StringComparison.Ordinal) ? endpoint[..^1] + "*" : endpoint);
        RoleHost.Emit(new { @event = "ready", endpoint = bound });
        var stopping = false;
        var thread = new Thread(() =>
        {
            var workers = new List<byte[]>();
            var next = 0;
            var frames = new[] { new byte[BufferSize], new byte[BufferSize], new byte[BufferSize] };
            var lengths = new int[3];
            while (!Volatile.Read(ref stopping))
            {
                var count = ReceiveMessage(router, frames, lengths);
                if (count == 2 && lengths[1] == 1 && frames[1][0] == (byte)'R')
                {
                    workers.Add(frames[0][..lengths[0]]);
                }
                else if (count == 2 && workers.Count > 0)
                {
                    NativeZmq.Send(router, workers[next++ % workers.Count], more: true);
                    NativeZmq.Send(router, frames[0].AsSpan(0, lengths[0]), more: true);
                    NativeZmq.Send(router, frames[1].AsSpan(0, lengths[1]), more: false);
                }
                else if (count == 3)
                {
                    NativeZmq.Send(router, frames[1].AsSpan(0, lengths[1]), more: true);
                    NativeZmq.Send(router, frames[2].AsSpan(0, lengths[2]), more: false);
                }
            }
        })
        { IsBackground = true };
        thread.Start();
        await RoleHost.ServeAsync();
        Volatile.Write(ref stopping, true);
        thread.Join();
        NativeZmq.Close(router);
        NativeZmq.Terminate(context);
        return 0;
    }

    /// <summary>Registers with <c>R</c>, then sends every [client, body] back as it came.</summary>
    public static async Task<int> WorkerAsync(string endpoint)
    {
        var context = NativeZmq.Context();
        var worker = NativeZmq.Socket(context, NativeZmq.Dealer, Encoding.UTF8.GetBytes("zmq-" + Guid.NewGuid().ToString("N")));
        NativeZmq.Connect(worker, endpoint);
        NativeZmq.Send(worker, "R"u8, more: false);
        var stopping = false;
        var thread = new Thread(() =>
        {
            var frames = new[] { new byte[BufferSize], new byte[BufferSize], new byte[BufferSize] };
            var lengths = new int[3];
            while (!Volatile.Read(ref stopping))
            {
                if (ReceiveMessage(worker, frames, lengths) == 2)
                {
                    NativeZmq.Send(worker, frames[0].AsSpan(0, lengths[0]), more: true);
                    NativeZmq.Send(worker, frames[1].AsSpan(0, lengths[1]), more: false);
                }
            }
        })
        { IsBackground = true };
        thread.Start();
        RoleHost.Emit(new { @event = "ready" });
        await RoleHost.ServeAsync();
        Volatile.Write(ref stopping, true);
        thread.Join();
        NativeZmq.Close(worker);
        NativeZmq.Terminate(context);
        return 0;
    }

    public static async Task<int> ClientAsync(string endpoint, string mode, int count, int inFlight, int size)
    {
        var context = NativeZmq.Context();
        var client = NativeZmq.Socket(context, NativeZmq.Dealer, Encoding.UTF8.GetBytes("zmq-" + Guid.NewGuid().ToString("N")));
        NativeZmq.Connect(client, endpoint);
        var data = Encoding.UTF8.GetBytes("\"" + new string('x', size) + "\"");
        var warmUp = await Load.WarmUpAsync((n, window) => Task.FromResult(Run(client, data, n, window)), count, inFlight);
        await RoleHost.ServeLoadAsync(warmUp, () => Task.FromResult(Run(client, data, count, mode == "latency" ? 1 : inFlight)));
        NativeZmq.Close(client);
        NativeZmq.Terminate(context);
        return 0;
    }

    /// <summary>Keeps <paramref name="inFlight"/> requests (one body frame: 8-byte id + data) outstanding until <paramref name="count"/> are answered.</summary>
    private static LoadResult Run(nint client, byte[] data, int count, int inFlight)
    {
        var sentAt = new long[count];
        var latencies = new long[count];
        var clock = Stopwatch.StartNew();
        var body = new byte[8 + data.Length];
        data.CopyTo(body, 8);
        var reply = new[] { new byte[BufferSize] };
        var lengths = new int[1];
        var sent = 0;
        var done = 0;
        var silentSince = Stopwatch.StartNew();
        void Send()
        {
            var id = sent++;
            sentAt[id] = Stopwatch.GetTimestamp();
            BinaryPrimitives.WriteInt64LittleEndian(body, id);
            NativeZmq.Send(client, body, more: false);
        }

        while (sent < Math.Min(inFlight, count))
        {
            Send();
        }

        while (done < count)
        {
            if (ReceiveMessage(client, reply, lengths) != 1 || lengths[0] < 8)
            {
                if (silentSince.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new TimeoutException($"no reply after {done} of {count}");
                }

                continue;
            }

            silentSince.Restart();
            var id = (int)BinaryPrimitives.ReadInt64LittleEndian(reply[0]);
            latencies[done++] = Stopwatch.GetTimestamp() - sentAt[id];
            if (sent < count)
            {
                Send();
            }
        }

        return Load.Summarize(latencies, clock.Elapsed.TotalSeconds, 0);
    }

    /// <summary>Receives one message (its parts past <paramref name="frames"/>' count are dropped); its part count, 0 after the receive timeout.</summary>
    private static int ReceiveMessage(nint socket, byte[][] frames, int[] lengths)
    {
        var count = 0;
        var length = NativeZmq.Receive(socket, frames[0]);
        if (length < 0)
        {
            return 0;
        }

        lengths[count++] = length;
        while (NativeZmq.More(socket))
        {
            var scratch = count < frames.Length ? frames[count] : frames[^1];
            length = NativeZmq.Receive(socket, scratch);
            if (count < frames.Length)
            {
                lengths[count] = length;
            }

            count++;
        }

        return count;
    }
}
