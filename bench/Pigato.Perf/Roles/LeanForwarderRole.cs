using NetMQ;
using NetMQ.Sockets;

namespace Pigato.Perf.Roles;

/// <summary>
/// The forwarder for the lean-framing prototype: a client sends one body frame, the broker routes
/// [worker, client, body] and back [client, body]; a worker registers with one frame <c>R</c>.
/// </summary>
internal static class LeanForwarderRole
{
    public static async Task<int> RunAsync(string endpoint)
    {
        using var router = new RouterSocket();
        router.Options.RouterMandatory = true;
        router.Options.SendHighWatermark = 50_000;
        router.Options.ReceiveHighWatermark = 50_000;
        router.Bind(endpoint);
        var stopping = false;
        var thread = new Thread(() =>
        {
            var workers = new List<byte[]>();
            var next = 0;
            var frames = new Msg[3];
            for (var i = 0; i < frames.Length; i++)
            {
                frames[i].InitEmpty();
            }

            while (!Volatile.Read(ref stopping))
            {
                if (!router.TryReceive(ref frames[0], TimeSpan.FromMilliseconds(100)))
                {
                    continue;
                }

                var count = 1;
                while (frames[count - 1].HasMore && count < frames.Length)
                {
                    router.TryReceive(ref frames[count], SendReceiveConstants.InfiniteTimeout);
                    count++;
                }

                if (count == 2 && frames[1].Size == 1 && frames[1].Slice()[0] == (byte)'R')
                {
                    workers.Add(frames[0].ToArray());
                }
                else if (count == 2 && workers.Count > 0)
                {
                    router.SendFrame(workers[next++ % workers.Count], true);
                    router.Send(ref frames[0], true);
                    router.Send(ref frames[1], false);
                }
                else if (count == 3)
                {
                    router.Send(ref frames[1], true);
                    router.Send(ref frames[2], false);
                }

                for (var i = 0; i < count; i++)
                {
                    frames[i].Close();
                    frames[i].InitEmpty();
                }
            }
        })
        { IsBackground = true };
        thread.Start();
        RoleHost.Emit(new { @event = "ready", endpoint = router.Options.LastEndpoint });
        await RoleHost.ServeAsync();
        Volatile.Write(ref stopping, true);
        thread.Join();
        return 0;
    }
}
