using Pigato.Internal;

namespace Pigato.Routing;

/// <summary>What clients send: requests (admitted or refused), hellos, heartbeats, cancellations; and their silence.</summary>
internal sealed partial class BrokerCore
{
    /// <summary>A client sends the same options with most requests: the last frame's parse serves the same bytes.</summary>
    private readonly LastParsed<BrokerRequestOptions> _lastOptions = new(static frame => BrokerRequestOptions.Parse(frame));

    /// <summary>A client's request; <paramref name="messageSize"/> is the size of all its frames. Refused with an error reply when over a limit.</summary>
    public void ClientRequest(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> service, ReadOnlySpan<byte> rid, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options, int messageSize)
    {
        if (rid.IsEmpty || service.IsEmpty)
        {
            _output.ReportError(PigatoErrorCodes.RequestInvalid, "Request without a service or a request id.", Utf8.Decode(clientId));
            return;
        }

        ReattachOrphans(clientId);
        if (rid.Length > _options.MaxRidLength || service.Length > _options.MaxServiceNameLength)
        {
            Refuse(clientId, rid, PigatoErrorCodes.FrameTooLong, $"service name of {service.Length} bytes or request id of {rid.Length} bytes (at most {_options.MaxServiceNameLength} and {_options.MaxRidLength})");
            return;
        }

        if (messageSize > _options.MaxMessageSize)
        {
            Refuse(clientId, rid, PigatoErrorCodes.MessageTooLarge, $"message of {messageSize} bytes (at most {_options.MaxMessageSize})");
            return;
        }

        if (_requests.TryGet(clientId, rid, out var inProgress))
        {
            if (inProgress.IsDurable)
            {
                // Sent again by its client after its connection dropped and came back under the same identity: nothing
                // runs twice; a final reply kept meanwhile goes now.
                Reattach(inProgress, clientId, service, rid);
                return;
            }

            _output.ReportError(PigatoErrorCodes.RequestInvalid, $"Request id {Utf8.Decode(rid)} is already in progress; duplicate ignored.", Utf8.Decode(clientId));
            return;
        }

        if (_authorizer.DenyRequest(clientId, service) is { } denial)
        {
            // One line per refusal: the audit log named the principal; the refusal itself is only counted and answered.
            Refuse(clientId, rid, denial, detail: null);
            return;
        }

        if (TryAnswerCoreService(clientId, service, rid, data))
        {
            return;
        }

        var parsed = _lastOptions.Parse(options);
        var optionsFrame = _lastOptions.LastFrame; // the same bytes, one array shared by every request that carries them
        if (parsed.Persist)
        {
            if (_requests.TryGetDurable(rid, out var held))
            {
                Reattach(held, clientId, service, rid);
                return;
            }

            if (_durable.Refusal() is { } full)
            {
                Refuse(clientId, rid, full.Code, full.Detail);
                return;
            }
        }

        var entry = _dispatcher.ServiceFor(service);
        if ((parsed.FailWithoutWorkers ?? _options.FailWithoutWorkers) && !HasWorkers(entry))
        {
            Refuse(clientId, rid, PigatoErrorCodes.NoWorkers, $"no registered worker serves '{entry.Name}'");
            return;
        }

        if (Admit(clientId, entry, BrokerRequest.Overhead + clientId.Length + rid.Length + data.Length + options.Length) is { } refusal)
        {
            Refuse(clientId, rid, refusal.Code, refusal.Detail);
            return;
        }

        // Core services in other processes answer by the requester's rights (PIGATO's directory lists only what it may
        // request): they learn its principal from the broker, which overwrites whatever the client put there.
        var stored = _authorizer.Permissions is not null && entry.Name.StartsWith('$') ? JsonFrame.WithFields(options, ("principal", _authorizer.PrincipalOf(clientId))) : null;
        System.Diagnostics.Activity? activity = null;
        if (Tracing.Source.HasListeners())
        {
            // The broker's span is the worker's parent: the stored options carry its context onwards.
            var caller = System.Diagnostics.Activity.Current;
            activity = Tracing.Start("receive", entry.Name, System.Diagnostics.ActivityKind.Server, Utf8.Decode(rid), Tracing.Extract(stored ?? options));
            System.Diagnostics.Activity.Current = caller;
            stored = activity is null ? stored : Tracing.Inject(stored ?? options, activity);
        }

        var principal = _options.FairQueuing == FairQueuing.PerPrincipal ? _authorizer.PrincipalOf(clientId) : null;
        var request = _requests.Create(clientId, rid, entry, data, stored ?? optionsFrame, parsed, _time.GetTimestamp(), activity, storedAt: parsed.Persist ? _time.GetUtcNow().ToUnixTimeMilliseconds() : 0, principal: principal);
        if (parsed.Persist && _requests.Journal is not null)
        {
            _metrics?.Stored();
        }

        _metrics?.Received();
        DispatchPending();
    }

    /// <summary>
    /// A .NET client's hello (first on every connection): the framing it speaks and, when it has one, its credential
    /// (its principal is remembered for its identity when the token matches). The output answers with the framing it agrees to.
    /// </summary>
    public void ClientHello(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> hello)
    {
        var parsed = WorkerStatus.Parse(hello);
        Heard(clientId, heartbeat: true);
        if (parsed.Principal is { } principal)
        {
            _authorizer.Authenticate(clientId, principal, parsed.Token ?? "");
        }

        _output.SendHelloAnswer(clientId, parsed.Version);
    }

    public void ClientHeartbeat(ReadOnlySpan<byte> clientId)
    {
        Heard(clientId, heartbeat: true);
        _output.SendClientHeartbeat(clientId);
    }

    /// <summary>Forwarded to the worker holding the request (the original compares with 'req' and never forwards); only the request's own client is heard.</summary>
    public void ClientRequestHeartbeat(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid)
    {
        Heard(clientId, heartbeat: true);
        if (!TryGetRequestOfClient(clientId, rid, out var request) || request.Worker is not { } worker)
        {
            return;
        }

        request.LastActivity = _time.GetTimestamp();
        if (!_output.ForwardRequestHeartbeat(worker, request))
        {
            // Advisory: a failed one never costs the worker its requests.
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Request heartbeat for {request.Rid} could not reach its worker.", worker.Id);
        }
    }

    /// <summary>
    /// The client no longer wants the request (a .NET client, on a v2 connection): still queued, it is dropped at once; at a
    /// worker, a v2 worker is told (its handler's token trips) and whatever the worker still sends for it is dropped, its
    /// final reply freeing the slot. A v1 worker (PIGATO for Node.js) cannot be told: it sees the request heartbeats stop.
    /// </summary>
    public void ClientCancel(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid)
    {
        Heard(clientId, heartbeat: true);
        if (!TryGetRequestOfClient(clientId, rid, out var request) || request.Cancelled || request.ParkedReply is not null)
        {
            // Answered (or cancelled) already.
            return;
        }

        _metrics?.Cancelled(queued: request.Worker is null);
        if (request.Worker is not { } worker)
        {
            _requests.End(request, PigatoErrorCodes.Cancelled);
            Log.Request(_logger, request.Rid, request.Service.Name, "cancelled by its client while queued");
            return;
        }

        request.Cancelled = true;
        Log.Request(_logger, request.Rid, request.Service.Name, "cancelled by its client at", worker.Id);
        if (!_output.ForwardCancel(worker, request))
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Cancellation of {request.Rid} could not reach its worker.", worker.Id);
        }
    }

    /// <summary>
    /// A worker's heartbeat sent from a client socket (PIGATO-RUBY's worker runs one beside its worker socket, and sends
    /// nothing else while its handler is busy): the worker named counts as heard, as the Node broker does; nothing is
    /// answered. With permissions, only a peer whose principal is the worker's, or may serve its service, keeps it alive.
    /// </summary>
    public void ClientWorkerHeartbeat(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> workerId)
    {
        Heard(clientId, heartbeat: true);

        // Not (or no longer) registered: the worker registers again on its own when the broker tells it so.
        if (_workers.TryGet(workerId, out var worker) && _authorizer.MayHeartbeatFor(clientId, worker))
        {
            _workers.Touch(worker, _time.GetTimestamp());
        }
    }

    /// <summary>Refuses a request on arrival with the broker's own error reply.</summary>
    /// <param name="clientId">The client.</param>
    /// <param name="rid">Its request.</param>
    /// <param name="code">The error code it gets.</param>
    /// <param name="detail">What the log says (at most once a second per code); null when the caller logged it already.</param>
    public void Refuse(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, string code, string? detail)
    {
        _metrics?.Refused(code);
        var peer = Utf8.Decode(clientId);
        if (detail is not null)
        {
            _refusals.Refused(code, peer, _authorizer.Describe(clientId, detail));
        }

        if (!_output.SendError(clientId, rid, code))
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Refusal {code} could not reach its client.", peer);
        }
    }

    /// <summary>Turns in a row a new lane of a service queue gets: the weight of the principal its request's client proved (1 without permissions).</summary>
    private int LaneWeight(BrokerRequest request) =>
        _authorizer.Permissions is { } permissions ? permissions.WeightOf(_authorizer.PrincipalOf(request.ClientId)) : 1;

    /// <summary>Checks the memory budget and the per-client and per-service limits; the refusal, or null to admit.</summary>
    private (string Code, string Detail)? Admit(ReadOnlySpan<byte> clientId, ServiceEntry service, long size)
    {
        var held = _requests.HeldBytes + _output.QueuedBytes;
        if (held + size > _options.MaxHeldBytes)
        {
            return (PigatoErrorCodes.BrokerFull, $"the broker holds {held} bytes for requests and replies waiting (at most {_options.MaxHeldBytes})");
        }

        if (_requests.TryGetClient(clientId, out var client))
        {
            if (client.Pending >= _options.MaxPendingPerClient)
            {
                return (PigatoErrorCodes.ClientPendingLimit, $"the client has {client.Pending} requests in the broker (at most {_options.MaxPendingPerClient})");
            }

            var clientBytes = client.Bytes + _output.QueuedBytesFor(clientId);
            if (clientBytes + size > _options.MaxBytesPerClient)
            {
                return (PigatoErrorCodes.ClientBytesLimit, $"the client's requests and unread replies hold {clientBytes} bytes (at most {_options.MaxBytesPerClient})");
            }
        }

        if (service.Queue.Count >= _options.MaxQueuedPerService)
        {
            return (PigatoErrorCodes.ServiceQueueFull, $"service '{service.Name}' has {service.Queue.Count} requests queued (at most {_options.MaxQueuedPerService})");
        }

        return null;
    }

    /// <summary>True when a registered worker can serve the service: its name, a wildcard or a semver range.</summary>
    private bool HasWorkers(ServiceEntry entry)
    {
        foreach (var candidate in _dispatcher.CandidatesFor(entry))
        {
            if (candidate.Workers.Count > 0)
            {
                return true;
            }
        }

        return false;
    }
}
