using Pigato.Monitoring;

namespace Pigato.Routing;

/// <summary>The requests the broker quarantined lately, for its snapshot, the dashboard and <c>$stats</c>: the newest <see cref="Capacity"/>.</summary>
internal sealed class PoisonedRequests
{
    public const int Capacity = 20;

    /// <summary>How much of a request's data is kept to tell which input it was.</summary>
    private const int DataPrefixLength = 64;

    private readonly Queue<PoisonedRequestSnapshot> _recent = new();

    /// <summary>The newest first.</summary>
    public IReadOnlyList<PoisonedRequestSnapshot> Recent => [.. _recent.Reverse()];

    public int Count => _recent.Count;

    public void Add(BrokerRequest request, DateTimeOffset at)
    {
        if (_recent.Count == Capacity)
        {
            _recent.Dequeue();
        }

        _recent.Enqueue(new PoisonedRequestSnapshot
        {
            Service = request.Service.Name,
            Client = Internal.Utf8.Decode(request.ClientId),
            Rid = request.Rid,
            Bytes = request.Data.Length,
            WorkersLost = request.WorkersLost,
            DataPrefix = Internal.Utf8.Decode(request.Data.AsSpan(0, Math.Min(request.Data.Length, DataPrefixLength))),
            At = at,
        });
    }
}
