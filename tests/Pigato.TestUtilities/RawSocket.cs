using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace Pigato.TestUtilities;

/// <summary>A raw NetMQ socket standing in for the other side of the protocol; frames are text, or bytes for v2 frames.</summary>
public sealed class RawSocket : IDisposable
{
    private readonly NetMQSocket _socket;

    private RawSocket(NetMQSocket socket) => _socket = socket;

    /// <summary>The endpoint a bound socket listens on.</summary>
    public string Endpoint => _socket.Options.LastEndpoint!;

    /// <summary>A ROUTER playing the broker, on an ephemeral port or on <paramref name="endpoint"/> (a broker started again on its port).</summary>
    public static RawSocket Router(string endpoint = "tcp://127.0.0.1:0")
    {
        var router = new RouterSocket();
        router.Options.RouterMandatory = true;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                router.Bind(endpoint);
                return new RawSocket(router);
            }
            catch (AddressAlreadyInUseException) when (attempt < 100)
            {
                // The previous socket on this port closes asynchronously.
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>A DEALER connected to <paramref name="endpoint"/> with identity <paramref name="identity"/>, playing a client or worker.</summary>
    public static RawSocket Dealer(string endpoint, string identity, int receiveHighWatermark = 1000)
    {
        var dealer = new DealerSocket();
        dealer.Options.Identity = Encoding.UTF8.GetBytes(identity);
        dealer.Options.ReceiveHighWatermark = receiveHighWatermark;
        dealer.Connect(endpoint);
        return new RawSocket(dealer);
    }

    /// <remarks>
    /// A ROUTER with RouterMandatory refuses a peer whose connection it has not attached yet (or is replacing):
    /// the first frame is retried a bounded number of times before the failure is the test's.
    /// </remarks>
    public void Send(params string[] frames) => Send([.. frames.Select(Encoding.UTF8.GetBytes)]);

    /// <inheritdoc cref="Send(string[])"/>
    public void Send(params byte[][] frames)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _socket.SendFrame(frames[0], frames.Length > 1);
                break;
            }
            catch (HostUnreachableException) when (attempt < 50)
            {
                Thread.Sleep(10);
            }
        }

        for (var i = 1; i < frames.Length; i++)
        {
            _socket.SendFrame(frames[i], i < frames.Length - 1);
        }
    }

    /// <summary>The next message, or null when none arrives within <paramref name="timeout"/>.</summary>
    public string[]? TryReceive(TimeSpan timeout)
    {
        List<string>? frames = null;
        return _socket.TryReceiveMultipartStrings(timeout, ref frames) ? [.. frames!] : null;
    }

    /// <summary>The next message whose frames after <paramref name="skip"/> start as <paramref name="prefix"/> (others are skipped, e.g. heartbeats).</summary>
    public string[] ReceiveMatching(int skip, params string[] prefix)
    {
        var deadline = DateTime.UtcNow + Bounded.Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var message = TryReceive(TimeSpan.FromMilliseconds(100));
            if (message is not null && message.Length >= skip + prefix.Length && message.Skip(skip).Take(prefix.Length).SequenceEqual(prefix))
            {
                return message;
            }
        }

        Assert.Fail($"No message [{string.Join(", ", prefix)}] within {Bounded.Timeout.TotalSeconds} s.");
        return [];
    }

    /// <summary>The next message (as bytes) that <paramref name="match"/> accepts; others are skipped (heartbeats).</summary>
    public byte[][] ReceiveWhere(Func<byte[][], bool> match, string what)
    {
        var deadline = DateTime.UtcNow + Bounded.Timeout;
        while (DateTime.UtcNow < deadline)
        {
            NetMQMessage? message = null;
            if (_socket.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message))
            {
                byte[][] frames = [.. message.Select(f => f.ToByteArray())];
                if (match(frames))
                {
                    return frames;
                }
            }
        }

        Assert.Fail($"No message {what} within {Bounded.Timeout.TotalSeconds} s.");
        return [];
    }

    public void Dispose() => _socket.Dispose();
}
