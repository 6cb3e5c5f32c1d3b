using Semver;

namespace Pigato.Routing;

/// <summary>
/// Finds the registered services that may serve a requested name, best first, and caches the answer on
/// the requested entry until the set of services with workers changes. Resolution therefore costs a
/// scan of the live services only once per name and topology change, never per request.
/// </summary>
/// <remarks>
/// Order of preference: the exact name; else, for <c>name@RANGE</c>, every live <c>name@x.y.z</c>
/// whose version satisfies the npm range, highest first; else the live wildcard <c>prefix*</c> with
/// the longest prefix of the name.
/// </remarks>
internal sealed class ServiceResolver
{
    private readonly HashSet<ServiceEntry> _live = [];
    private int _version;

    /// <summary>Records that <paramref name="service"/> gained its first worker or lost its last; false when nothing changed.</summary>
    public bool Update(ServiceEntry service)
    {
        var changed = service.Workers.Count > 0 ? _live.Add(service) : _live.Remove(service);
        if (changed)
        {
            _version++;
        }

        return changed;
    }

    public IReadOnlyList<ServiceEntry> CandidatesFor(ServiceEntry requested)
    {
        if (requested.CandidatesVersion != _version)
        {
            requested.Candidates = Resolve(requested);
            requested.CandidatesVersion = _version;
            foreach (var candidate in requested.Candidates)
            {
                candidate.Dependents.Add(requested);
            }
        }

        return requested.Candidates;
    }

    private ServiceEntry[] Resolve(ServiceEntry requested)
    {
        if (_live.Contains(requested))
        {
            return [requested];
        }

        var name = requested.Name;
        var at = name.LastIndexOf('@');
        if (at > 0 && SemVersionRange.TryParseNpm(name[(at + 1)..], out var range))
        {
            var baseName = name[..at];
            var versions = _live
                .Where(s => s.Version is not null && s.BaseName == baseName && range.Contains(s.Version))
                .OrderByDescending(s => s.Version!, SemVersion.PrecedenceComparer)
                .ToArray();
            if (versions.Length > 0)
            {
                return versions;
            }
        }

        ServiceEntry? wildcard = null;
        foreach (var service in _live)
        {
            if (service.IsWildcard
                && name.StartsWith(service.Name.AsSpan(0, service.Name.Length - 1), StringComparison.Ordinal)
                && (wildcard is null || service.Name.Length > wildcard.Name.Length))
            {
                wildcard = service;
            }
        }

        return wildcard is null ? [] : [wildcard];
    }
}
