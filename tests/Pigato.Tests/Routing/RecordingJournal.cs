using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>An <see cref="IRequestJournal"/> that records what the table journals, as lines <c>stored RID</c> and <c>removed RID</c>.</summary>
internal sealed class RecordingJournal : IRequestJournal
{
    public List<string> Lines { get; } = [];

    public bool IsAvailable { get; set; } = true;

    public void Stored(BrokerRequest request) => Lines.Add("stored " + request.Rid);

    public void Updated(BrokerRequest request) => Lines.Add("updated " + request.Rid);

    public void Removed(BrokerRequest request) => Lines.Add("removed " + request.Rid);

    /// <summary>Rids stored that a test declares still in the loop's batch (not handed to the writer): removing one costs nothing.</summary>
    public HashSet<string> Unwritten { get; } = [];

    /// <summary>Requests whose removal waits to be durable before their reply goes.</summary>
    public List<BrokerRequest> Waiting { get; } = [];

    public bool MayHold(BrokerRequest request) => !Unwritten.Contains(request.Rid);

    public void RemoveBeforeReply(BrokerRequest request)
    {
        Lines.Add("removed-before-reply " + request.Rid);
        Waiting.Add(request);
    }
}
