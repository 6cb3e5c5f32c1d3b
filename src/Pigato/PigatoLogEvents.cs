namespace Pigato;

/// <summary>The event ids of Pigato's log lines, unique across the library (filter on them in logging configuration).</summary>
public static class PigatoLogEvents
{
    /// <summary>An actor started.</summary>
    public const int Started = 1001;

    /// <summary>An actor stopped.</summary>
    public const int Stopped = 1002;

    /// <summary>A worker registered with the broker.</summary>
    public const int WorkerJoined = 1003;

    /// <summary>A worker left the broker (disconnect, purge or protocol violation).</summary>
    public const int WorkerLeft = 1004;

    /// <summary>A peer sent a malformed or out-of-protocol message, or a message could not be delivered.</summary>
    public const int PeerError = 1005;

    /// <summary>Per-request trace (dispatch, reply, expiry), at Debug level.</summary>
    public const int Request = 1007;

    /// <summary>A worker's or client's connection state changed.</summary>
    public const int Connection = 1008;

    /// <summary>A request handler threw.</summary>
    public const int HandlerFailed = 1009;

    /// <summary>A worker is stopping gracefully: it takes no more requests and lets the running ones finish.</summary>
    public const int Draining = 1010;

    /// <summary>Per-request trace naming a worker (dispatched to, rejected by), at Debug level.</summary>
    public const int RequestRouted = 1011;

    /// <summary>A worker stopped.</summary>
    public const int WorkerStopped = 1012;

    /// <summary>A worker's or client's connection heard from its broker for the first time.</summary>
    public const int Connected = 1013;

    /// <summary>The broker refused requests (limits, message size); at most one line a second per code.</summary>
    public const int Refused = 1014;

    /// <summary>The broker dropped requests whose client went silent, or that a worker kept past their timeout.</summary>
    public const int Abandoned = 1015;

    /// <summary>A worker stopped while handlers that ignore cancellation were still running.</summary>
    public const int HandlersStillRunning = 1016;

    /// <summary>How many workers joined or left beyond the lines logged one by one (at most 20 a second each).</summary>
    public const int WorkersNotLogged = 1017;

    /// <summary>The broker read its permissions file again after a change.</summary>
    public const int PermissionsReloaded = 1018;

    /// <summary>The broker opened its request store and queued again the <c>persist</c> requests it held.</summary>
    public const int StoreOpened = 1019;

    /// <summary>The broker took over the <c>persist</c> requests of a broker whose lease in the shared store expired.</summary>
    public const int StoreTakenOver = 1020;

    /// <summary>Warning: a batch of messages to the broker could not be queued (its send queue stayed full); their requests time out.</summary>
    public const int BatchNotSent = 1021;

    /// <summary>Warning: a handler run inline (<see cref="WorkerOptions.RunHandlersInline"/>) held the worker's thread longer than 50 ms before its first await.</summary>
    public const int InlineHandlerBlocked = 1022;

    /// <summary>Warning: the broker quarantined a poison request (<see cref="PigatoErrorCodes.Poison"/>): the workers holding it were lost too often.</summary>
    public const int Poisoned = 1023;

    /// <summary>Debug: what Pigato's own ZMTP transport (<see cref="ConnectionTransport.Auto"/>) saw fail: a connection attempt, or a connection dropped, and why.</summary>
    public const int Transport = 1024;

    /// <summary>
    /// Warning: user code that a client or worker ran on its own thread (a handler's start, an awaiting caller's
    /// continuation) held it longer than 50 ms; the actor's loop moved to a new thread, and such code runs off it for a
    /// while (0.1 s, doubling while it happens again, up to 10 s).
    /// </summary>
    public const int UserCodeHeldLoop = 1025;
}
