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

    /// <summary>A durable request's record changed (the workers lost while holding it): the store keeps the new one.</summary>
    void Updated(BrokerRequest request);

    /// <summary>A durable request ended (expired, failed, its reply dropped): it leaves the store.</summary>
    void Removed(BrokerRequest request);

    /// <summary>
    /// True when the request may be in the store (it was handed to the writer): its final reply must then wait until its
    /// removal is durable (<see cref="RemoveBeforeReply"/>), or a crash in between would run it again after its client was
    /// answered. False when it never left the loop: removing it costs nothing and its reply may go at once.
    /// </summary>
    bool MayHold(BrokerRequest request);

    /// <summary>Removes the request from the store; once that is durable, the broker's loop is told (and sends its kept reply).</summary>
    void RemoveBeforeReply(BrokerRequest request);
}
