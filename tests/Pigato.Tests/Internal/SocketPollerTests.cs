using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Pigato.Internal;

namespace Pigato.Tests.Internal;

/// <summary>
/// The own loop's wait (epoll on Linux, Select elsewhere) on real loopback sockets: a readable socket among many idle ones
/// is dispatched, a removed one is not, a socket closed without being removed breaks nothing, and a socket that reuses
/// a closed one's descriptor is watched as itself.
/// </summary>
public sealed class SocketPollerTests : IDisposable
{
    private static readonly long Soon = Stopwatch.Frequency * 10;
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> _sockets = [];
    private readonly SocketPoller _poller = new();

    public SocketPollerTests()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
    }

    /// <summary>A connected pair: what is written to the first can be read from the second.</summary>
    private (Socket Writer, Socket Reader) Pair()
    {
        var writer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        writer.Connect(_listener.LocalEndPoint!);
        var reader = _listener.Accept();
        _sockets.Add(writer);
        _sockets.Add(reader);
        return (writer, reader);
    }

    /// <summary>Waits (at most 10 s) and dispatches; returns the names of the callbacks that ran.</summary>
    private List<string> WaitAndDispatch(List<string> ran)
    {
        ran.Clear();
        _poller.Wait(Stopwatch.GetTimestamp() + Soon);
        _poller.Dispatch();
        return ran;
    }

    [Fact]
    public void AReadableSocketAmongManyIdleOnes_IsDispatched_AndARemovedOneNoLonger()
    {
        var ran = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var (_, idle) = Pair();
            _poller.Add(idle, () => ran.Add("idle"));
        }

        var (writer, reader) = Pair();
        _poller.Add(reader, () =>
        {
            ran.Add("reader");
            reader.Receive(new byte[16]);
        });
        writer.Send([1]);

        Assert.Equal(["reader"], WaitAndDispatch(ran));

        _poller.Remove(reader);
        writer.Send([2]);
        ran.Clear();
        _poller.Wait(Stopwatch.GetTimestamp()); // no wait: a deadline already passed
        _poller.Dispatch();
        Assert.Empty(ran);
    }

    [Fact]
    public void ASocketClosedWithoutBeingRemoved_BreaksNothing_AndOneReusingItsDescriptorIsWatchedAsItself()
    {
        var ran = new List<string>();
        var (_, closed) = Pair();
        _poller.Add(closed, () => ran.Add("closed"));
        closed.Dispose(); // not removed first

        // The next socket made may reuse the descriptor: it is watched as itself, and the closed one never runs.
        var (writer, reader) = Pair();
        _poller.Add(reader, () =>
        {
            ran.Add("reader");
            reader.Receive(new byte[16]);
        });
        _poller.Remove(closed); // late, after its descriptor may have been reused: the new socket stays watched
        writer.Send([1]);

        Assert.Equal(["reader"], WaitAndDispatch(ran));
    }

    public void Dispose()
    {
        _poller.Dispose();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        _listener.Dispose();
    }
}
