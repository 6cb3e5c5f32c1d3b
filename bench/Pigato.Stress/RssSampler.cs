namespace Pigato.Stress;

/// <summary>Samples the broker's RSS every 250 ms for the peak.</summary>
internal sealed class RssSampler : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Timer _timer;
    private double _peak;

    public RssSampler(BrokerProcess broker) => _timer = new Timer(_ =>
    {
        if (broker.IsAlive)
        {
            var now = broker.RssMegabytes();
            lock (_gate)
            {
                _peak = Math.Max(_peak, now);
            }
        }
    }, null, TimeSpan.Zero, TimeSpan.FromMilliseconds(250));

    public double Peak
    {
        get
        {
            lock (_gate)
            {
                return _peak;
            }
        }
    }

    public void Dispose() => _timer.Dispose();
}
