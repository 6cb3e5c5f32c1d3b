namespace Pigato.Routing;

/// <summary>
/// What the request table tells the durable store: a <c>persist</c> request is held, or has ended. Called on the
/// broker's loop; the implementation writes off that thread, one transaction per loop wake-up.
/// </summary>
internal interface IRequestJournal
{
    /// <summary>False while the store cannot be written (Redis down, disk full): new <c>persist</c> requests are refused.</summary>
    bool IsAvailable { get; }

    /// <summary>A durable request was accepted (or re-queued from the store): it must be in the store.</summary>
    void Stored(BrokerRequest request);

    /// <summary>A durable request ended (final reply handed to its client, expired, failed): it leaves the store.</summary>
    void Removed(BrokerRequest request);
}
