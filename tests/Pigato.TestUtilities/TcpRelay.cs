using System.Net;
using System.Net.Sockets;

namespace Pigato.TestUtilities;

/// <summary>A TCP relay on 127.0.0.1 between peers and a broker that keeps a copy of every byte it carries (an eavesdropper).</summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly MemoryStream _seen = new();
    private readonly List<Task> _pumps = [];
    private readonly Task _accepting;

    public TcpRelay(string brokerEndpoint)
    {
        var uri = new Uri(brokerEndpoint.Replace("tcp://", "tcp://", StringComparison.Ordinal));
        _target = new IPEndPoint(IPAddress.Loopback, uri.Port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Endpoint => $"tcp://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Everything carried so far, both directions.</summary>
    public byte[] Seen()
    {
        lock (_seen)
        {
            return _seen.ToArray();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await Task.WhenAll([_accepting, .. _pumps]).ContinueWith(_ => { });
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                var outbound = new TcpClient();
                await outbound.ConnectAsync(_target, _stop.Token);
                _pumps.Add(PumpAsync(inbound, outbound));
                _pumps.Add(PumpAsync(outbound, inbound));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var source = from.GetStream();
            var sink = to.GetStream();
            int read;
            while ((read = await source.ReadAsync(buffer, _stop.Token)) > 0)
            {
                lock (_seen)
                {
                    _seen.Write(buffer, 0, read);
                }

                await sink.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // A side closed, or the relay stops.
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }
}
