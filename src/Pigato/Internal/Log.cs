using Microsoft.Extensions.Logging;

namespace Pigato.Internal;

/// <summary>Every log line of the library, source-generated (no formatting cost when the level is off).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = PigatoLogEvents.Started, EventName = "Started", Level = LogLevel.Information, Message = "Broker {Name} listening on {Endpoint} (internal channel {InternalEndpoint})")]
    public static partial void Started(ILogger logger, string name, string? endpoint, string? internalEndpoint);

    [LoggerMessage(EventId = PigatoLogEvents.Stopped, EventName = "Stopped", Level = LogLevel.Information, Message = "{Name} stopped")]
    public static partial void Stopped(ILogger logger, string name);

    [LoggerMessage(EventId = PigatoLogEvents.WorkerJoined, EventName = "WorkerJoined", Level = LogLevel.Information, Message = "Worker {WorkerId} joined service {Service} (concurrency {Concurrency})")]
    public static partial void WorkerJoined(ILogger logger, string workerId, string service, int concurrency);

    [LoggerMessage(EventId = PigatoLogEvents.WorkerLeft, EventName = "WorkerLeft", Level = LogLevel.Information, Message = "Worker {WorkerId} left service {Service}: {Reason}; {Retried} request(s) re-queued, {Failed} failed")]
    public static partial void WorkerLeft(ILogger logger, string workerId, string service, string reason, int retried, int failed);

    [LoggerMessage(EventId = PigatoLogEvents.PeerError, EventName = "PeerError", Level = LogLevel.Warning, Message = "{Code} from {PeerId}: {Detail}")]
    public static partial void PeerError(ILogger logger, string code, string? peerId, string detail, Exception? exception);

    [LoggerMessage(EventId = PigatoLogEvents.Refused, EventName = "Refused", Level = LogLevel.Warning, Message = "{Code}: refused {PeerId} (from {Address}): {Detail} ({Suppressed} more refused with this code in the last second, not logged)")]
    public static partial void Refused(ILogger logger, string code, string peerId, string address, string detail, int suppressed);

    [LoggerMessage(EventId = PigatoLogEvents.StoreOpened, EventName = "StoreOpened", Level = LogLevel.Information, Message = "Request store {Store} opened: {Count} persist request(s) queued again")]
    public static partial void StoreOpened(ILogger logger, string store, int count);

    [LoggerMessage(EventId = PigatoLogEvents.StoreTakenOver, EventName = "StoreTakenOver", Level = LogLevel.Warning, Message = "Took over {Taken} persist request(s) of a broker whose lease in {Store} expired: {Queued} queued again, the others re-sent here by their clients already")]
    public static partial void StoreTakenOver(ILogger logger, string store, int taken, int queued);

    [LoggerMessage(EventId = PigatoLogEvents.Abandoned, EventName = "Abandoned", Level = LogLevel.Warning, Message = "{Code}: dropped {Count} request(s) of {PeerId}: {Detail}")]
    public static partial void Abandoned(ILogger logger, string code, string peerId, int count, string detail);

    [LoggerMessage(EventId = PigatoLogEvents.Poisoned, EventName = "Poisoned", Level = LogLevel.Warning, Message = "ERR_POISON: request {Rid} to '{Service}' from client {ClientId} ({Bytes} bytes of data) was held by {WorkersLost} workers that were lost while holding it, the last {WorkerId}; not dispatched again")]
    public static partial void Poisoned(ILogger logger, string rid, string service, string clientId, int bytes, int workersLost, string workerId);

    [LoggerMessage(EventId = PigatoLogEvents.HandlersStillRunning, EventName = "HandlersStillRunning", Level = LogLevel.Warning, Message = "Worker of service {Service} stopped with {Running} handler(s) still running after {Wait}: they ignore their request's CancellationToken")]
    public static partial void HandlersStillRunning(ILogger logger, string service, int running, TimeSpan wait);

    [LoggerMessage(EventId = PigatoLogEvents.WorkersNotLogged, EventName = "WorkersNotLogged", Level = LogLevel.Information, Message = "{Count} more worker(s) {What} in the last second, not logged one by one")]
    public static partial void WorkersNotLogged(ILogger logger, int count, string what);

    [LoggerMessage(EventId = PigatoLogEvents.PermissionsReloaded, EventName = "PermissionsReloaded", Level = LogLevel.Information, Message = "Permissions read again from {Path}")]
    public static partial void PermissionsReloaded(ILogger logger, string path);

    [LoggerMessage(EventId = PigatoLogEvents.Request, EventName = "Request", Level = LogLevel.Debug, Message = "Request {Rid} for {Service}: {What}")]
    public static partial void Request(ILogger logger, string rid, string service, string what);

    [LoggerMessage(EventId = PigatoLogEvents.RequestRouted, EventName = "RequestRouted", Level = LogLevel.Debug, Message = "Request {Rid} for {Service}: {What} {WorkerId}")]
    public static partial void Request(ILogger logger, string rid, string service, string what, string workerId);

    [LoggerMessage(EventId = PigatoLogEvents.WorkerStopped, EventName = "WorkerStopped", Level = LogLevel.Information, Message = "Worker of service {Service} stopped")]
    public static partial void WorkerStopped(ILogger logger, string service);

    [LoggerMessage(EventId = PigatoLogEvents.Connected, EventName = "Connected", Level = LogLevel.Information, Message = "{Actor} {Id}: connected to {Endpoint}")]
    public static partial void Connected(ILogger logger, string actor, string id, string endpoint);

    [LoggerMessage(EventId = PigatoLogEvents.Connection, EventName = "Connection", Level = LogLevel.Information, Message = "{Actor} {Id} ({Endpoint}): {What}")]
    public static partial void Connection(ILogger logger, string actor, string id, string endpoint, string what);

    [LoggerMessage(EventId = PigatoLogEvents.Transport, EventName = "Transport", Level = LogLevel.Debug, Message = "{Endpoint}: {What}")]
    public static partial void Transport(ILogger logger, string endpoint, string what);

    [LoggerMessage(EventId = PigatoLogEvents.BatchNotSent, EventName = "BatchNotSent", Level = LogLevel.Warning, Message = "{Actor} {Id}: {Count} messages could not be queued towards the broker (its send queue stayed full)")]
    public static partial void BatchNotSent(ILogger logger, string actor, string id, int count);

    [LoggerMessage(EventId = PigatoLogEvents.InlineHandlerBlocked, EventName = "InlineHandlerBlocked", Level = LogLevel.Warning, Message = "Handler of service {Service} held the worker's thread for {Elapsed} before its first await (request {Rid}; RunHandlersInline is on: nothing else of this worker moved meanwhile)")]
    public static partial void InlineHandlerBlocked(ILogger logger, string service, string rid, TimeSpan elapsed);

    [LoggerMessage(EventId = PigatoLogEvents.UserCodeHeldLoop, EventName = "UserCodeHeldLoop", Level = LogLevel.Warning, Message = "User code (a handler's start or an awaiting caller's continuation) held the {Actor}'s thread for {Elapsed}: its loop moved to a new thread, and such code starts off the loop for the next {Cooldown}")]
    public static partial void UserCodeHeldLoop(ILogger logger, string actor, TimeSpan elapsed, TimeSpan cooldown);

    [LoggerMessage(EventId = PigatoLogEvents.HandlerFailed, EventName = "HandlerFailed", Level = LogLevel.Error, Message = "Handler of service {Service} failed on request {Rid}")]
    public static partial void HandlerFailed(ILogger logger, string service, string rid, Exception exception);

    [LoggerMessage(EventId = PigatoLogEvents.Draining, EventName = "Draining", Level = LogLevel.Information, Message = "Worker {WorkerId} stopping: draining {Running} request(s) for up to {GracePeriod}")]
    public static partial void Draining(ILogger logger, string workerId, int running, TimeSpan gracePeriod);
}
