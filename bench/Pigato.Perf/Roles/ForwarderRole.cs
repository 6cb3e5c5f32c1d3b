using NetMQ;
using NetMQ.Sockets;

namespace Pigato.Perf.Roles;

/// <summary>
/// The ceiling: a minimal PIGATO-framed forwarder. It reads the header, picks the next worker round-robin and
/// relays the received frames without copying; no queues, no JSON, no bookkeeping. It answers heartbeats so
/// that real clients and workers stay connected.
/// </summary>
internal sealed class ForwarderRole : IDisposable
{
    private static readonly byte[] W = "W"u8.ToArray();
    private static readonly byte[] C = "C"u8.ToArray();
    private static readonly byte[] One = "1"u8.ToArray();
    private static readonly byte[] Two = "2"u8.ToArray();
    private static readonly byte[] Four = "4"u8.ToArray();

    private readonly RouterSocket _router = new();
    private readonly Msg[] _frames = new Msg[16];
    private readonly List<byte[]> _workers = [];
    private int _count;
    private int _next;
    private volatile bool _stopping;

    public static async Task<int> RunAsync(string endpoint)
    {
        using var forwarder = new ForwarderRole();
        forwarder._router.Options.RouterMandatory = true;
        forwarder._router.Options.SendHighWatermark = 50_000;
        forwarder._router.Options.ReceiveHighWatermark = 50_000;
        forwarder._router.Bind(endpoint);
        var thread = new Thread(forwarder.Loop) { Name = "forwarder", IsBackground = true };
        thread.Start();
        RoleHost.Emit(new { @event = "ready", endpoint = forwarder._router.Options.LastEndpoint });
        await RoleHost.ServeAsync();
        forwarder._stopping = true;
        thread.Join();
        return 0;
    }

    private void Loop()
    {
        for (var i = 0; i < _frames.Length; i++)
        {
            _frames[i].InitEmpty();
        }

        while (!_stopping)
        {
            if (!_router.TryReceive(ref _frames[0], TimeSpan.FromMilliseconds(100)))
            {
                continue;
            }

            _count = 1;
            while (_frames[_count - 1].HasMore && _count < _frames.Length)
            {
                _router.TryReceive(ref _frames[_count], SendReceiveConstants.InfiniteTimeout);
                _count++;
            }

            try
            {
                Route();
            }
            catch (HostUnreachableException)
            {
                // A peer left: the ceiling does not track it.
            }

            for (var i = 0; i < _count; i++)
            {
                _frames[i].Close();
                _frames[i].InitEmpty();
            }
        }
    }

    private void Route()
    {
        if (_count < 3)
        {
            return;
        }

        var side = _frames[1].Slice();
        var type = _frames[2].Slice();
        if (side.SequenceEqual(C))
        {
            if (type.SequenceEqual(Two) && _count >= 7 && _workers.Count > 0)
            {
                // [cid, C, 2, service, rid, data, opts] -> [wid, W, 2, cid, service, "", rid, data, opts]
                var worker = _workers[_next++ % _workers.Count];
                Send(worker, true);
                Send(W, true);
                Send(Two, true);
                Forward(0, true);
                Forward(3, true);
                Send([], true);
                Forward(4, true);
                Forward(5, true);
                Forward(6, false);
            }
            else if (type.SequenceEqual(Four) && _count == 3)
            {
                Forward(0, true);
                Send(C, true);
                Send(Four, false);
            }
        }
        else if (side.SequenceEqual(W))
        {
            switch (type[0])
            {
                case (byte)'1':
                    _workers.Add(_frames[0].ToArray());
                    Forward(0, true);
                    Send(W, true);
                    Send(One, false);
                    break;
                case (byte)'4':
                    Forward(0, true);
                    Send(W, true);
                    Send(Four, false);
                    break;
                case (byte)'3' or (byte)'6' when _count >= 7:
                    // [wid, W, t, cid, "", rid, status, data, opts] -> [cid, C, t, "", rid, status, data, opts]
                    Forward(3, true);
                    Send(C, true);
                    for (var i = 2; i < _count; i++)
                    {
                        if (i != 3)
                        {
                            Forward(i, i < _count - 1);
                        }
                    }

                    break;
                case (byte)'5':
                    var id = _frames[0].ToArray();
                    _workers.RemoveAll(w => w.AsSpan().SequenceEqual(id));
                    break;
            }
        }
    }

    private void Forward(int index, bool more) => _router.Send(ref _frames[index], more);

    private void Send(byte[] frame, bool more) => _router.SendFrame(frame, more);

    public void Dispose() => _router.Dispose();
}
