using Microsoft.Extensions.Logging;
using Pigato.Internal;
using Pigato.Security;

namespace Pigato.Routing;

/// <summary>
/// Who may do what at the broker: the principal each client identity proved, and the permissions requests, workers and
/// heartbeats are checked against. Every denial is counted and logged (at most once a second per code, naming the peer
/// and the principal). Without permissions everyone is anonymous and everything is allowed. The broker's loop only.
/// </summary>
internal sealed class BrokerAuthorizer(Permissions? permissions, RefusalLog audit, BrokerMetrics? metrics)
{
    /// <summary>The principal each client identity proved (by <see cref="PeerKey"/>), until the client is forgotten.</summary>
    private readonly Dictionary<string, string> _principals = new(StringComparer.Ordinal);

    /// <summary>The permissions in force; null: none (no checks).</summary>
    public Permissions? Permissions { get; private set; } = permissions;

    /// <summary>Remembers the principal a client proved for its identity; a wrong credential is denied (the client stays anonymous).</summary>
    public void Authenticate(ReadOnlySpan<byte> clientId, string name, string token)
    {
        if (Permissions is not { } rules)
        {
            return;
        }

        if (rules.Authenticate(name, token) is { } proven)
        {
            _principals[PeerKey.Of(clientId)] = proven;
            return;
        }

        Deny(PigatoErrorCodes.Unauthenticated, Utf8.Decode(clientId), $"client credential for principal '{name}' rejected");
    }

    /// <summary>The principal a client authenticated as, or anonymous.</summary>
    public string PrincipalOf(ReadOnlySpan<byte> clientId) =>
        _principals.Count > 0 && PeerKey.TryGet(_principals, clientId, out var principal) ? principal : Permissions.Anonymous;

    /// <summary>The client was forgotten (silent too long): what it proved goes with it; it reconnects under a new identity.</summary>
    public void Forget(string clientKey) => _principals.Remove(clientKey);

    /// <summary>
    /// Checks a request against the permissions: null when allowed; else the denial (logged and counted), unauthenticated
    /// for a client that proved nothing, forbidden for a principal that may not.
    /// </summary>
    public string? DenyRequest(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> service)
    {
        if (Permissions is not { } rules)
        {
            return null;
        }

        var principal = PrincipalOf(clientId);
        var name = Utf8.Decode(service);
        if (rules.MayRequest(principal, name))
        {
            return null;
        }

        var denial = PeerKey.TryGet(_principals, clientId, out _) ? PigatoErrorCodes.Forbidden : PigatoErrorCodes.Unauthenticated;
        Deny(denial, Utf8.Decode(clientId), $"request for '{name}' as '{principal}'");
        return denial;
    }

    /// <summary>
    /// Checks a worker's READY: true with the principal it proved (null without permissions) when it may serve the
    /// service; false when refused (logged and counted).
    /// </summary>
    public bool AdmitWorker(ReadOnlySpan<byte> identity, string service, WorkerStatus status, out string? principal)
    {
        principal = null;
        if (Permissions is not { } rules)
        {
            return true;
        }

        principal = status.Principal is null ? Permissions.Anonymous : rules.Authenticate(status.Principal, status.Token ?? "");
        var denial = principal is null ? PigatoErrorCodes.Unauthenticated
            : rules.MayServe(principal, service) ? null
            : principal == Permissions.Anonymous ? PigatoErrorCodes.Unauthenticated
            : PigatoErrorCodes.Forbidden;
        if (denial is null)
        {
            return true;
        }

        Deny(denial, Utf8.Decode(identity), $"worker may not serve '{service}' as '{status.Principal ?? Permissions.Anonymous}' (READY refused; sent DISCONNECT)");
        return false;
    }

    /// <summary>True when the peer may keep the worker alive (PIGATO-RUBY's heartbeat from a client socket): it is the worker's principal, or may serve its service.</summary>
    public bool MayHeartbeatFor(ReadOnlySpan<byte> clientId, BrokerWorker worker)
    {
        if (Permissions is not { } rules)
        {
            return true;
        }

        var principal = PrincipalOf(clientId);
        if (principal == worker.Principal || rules.MayServe(principal, worker.Service.Name))
        {
            return true;
        }

        Deny(PigatoErrorCodes.Forbidden, Utf8.Decode(clientId), $"heartbeat for worker {worker.Id} of '{worker.Service.Name}' as '{principal}'");
        return false;
    }

    /// <summary>New permissions (the file changed); returns the workers whose principal may no longer serve their service (each logged as revoked).</summary>
    public List<BrokerWorker> Replace(Permissions next, IEnumerable<BrokerWorker> workers)
    {
        Permissions = next;
        var revoked = new List<BrokerWorker>();
        foreach (var worker in workers)
        {
            if (!next.MayServe(worker.Principal ?? Permissions.Anonymous, worker.Service.Name))
            {
                Deny(PigatoErrorCodes.Forbidden, worker.Id, $"principal '{worker.Principal}' may no longer serve '{worker.Service.Name}': revoked");
                revoked.Add(worker);
            }
        }

        return revoked;
    }

    /// <summary>A refusal's log detail: with permissions, it names who the peer proved to be, as a denial's does.</summary>
    public string Describe(ReadOnlySpan<byte> clientId, string detail) => $"{detail}; principal '{PrincipalOf(clientId)}'";

    /// <summary>An authentication failure, denial or revocation: logged (at most once a second per code, with the count) and counted.</summary>
    private void Deny(string code, string peerId, string what)
    {
        metrics?.Denied(code);
        audit.Refused(code, peerId, what);
    }
}
