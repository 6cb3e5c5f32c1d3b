using System.Text;
using CsCheck;
using Pigato.Protocol;
using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>Random and mutated input: no exception escapes the decoder or the broker core, and nothing is held once it is all settled.</summary>
public class BrokerPropertyTests
{
    private static readonly string[] Tokens =
        ["C", "W", "1", "2", "3", "4", "5", "6", "7", "9", "", "request", "echo", "echo*", "svc@1.2.3", "svc@^1", "r1", "r2", "c1", "w1", "0", "-1", "null", "undefined", "{}", "{\"concurrency\":2}", "{\"retry\":1}", "{\"timeout\":-1}", "{\"workerId\":\"w1\"}", "{", "\"x\""];

    /// <summary>A frame: a protocol token most of the time, random bytes sometimes.</summary>
    private static readonly Gen<byte[]> Frame = Gen.Frequency(
        (4, Gen.Int[0, Tokens.Length - 1].Select(i => Encoding.UTF8.GetBytes(Tokens[i]))),
        (1, Gen.Byte.Array[0, 40]));

    private static readonly Gen<byte[][]> Message = Frame.Array[0, 10];

    [Fact]
    public void Decoder_NeverThrows_AndAcceptsOnlyMessagesLongEnoughForTheirKind() =>
        Message.Sample(frames =>
        {
            var source = new FrameList([]);
            foreach (var frame in frames)
            {
                source.Write(frame, true);
            }

            foreach (var decoded in (DecodedMessage[])[PigatoDecoder.ForBroker(source), PigatoDecoder.ForClient(source), PigatoDecoder.ForWorker(source)])
            {
                Assert.True(decoded.IsValid || decoded.Error is not null);
                Assert.True(!decoded.IsValid || source.Count >= 2);
            }
        }, iter: 5000);

    /// <summary>One step a peer (or the clock) takes: a kind, a peer, a rid, a service.</summary>
    private static readonly Gen<(int Kind, int Peer, int Rid, int Service, byte[] Junk)> Step =
        Gen.Select(Gen.Int[0, 11], Gen.Int[0, 3], Gen.Int[0, 5], Gen.Int[0, 3], Gen.Byte.Array[0, 8]);

    [Fact]
    public void BrokerCore_SurvivesAnySequenceOfMessages_AndHoldsNothingOnceSettled() =>
        Step.Array[1, 80].Sample(steps =>
        {
            var h = new CoreHarness(new BrokerOptions { MaxPendingPerClient = 4, MaxQueuedPerService = 5, MaxHeldBytes = 8192, MaxMessageSize = 2048 });
            string[] services = ["echo", "echo*", "svc@1.2.3", "svc@^1"];
            foreach (var (kind, peer, rid, service, junk) in steps)
            {
                var p = "p" + peer;
                var r = "r" + rid;
                switch (kind)
                {
                    case 0: h.Ready(p, services[service], rid - 1); break;
                    case 1: h.Heartbeat(p, rid - 1); break;
                    case 2: h.Request(p, services[service], r, rid % 2 == 0 ? "{\"retry\":1}" : "{}"); break;
                    case 3: h.Final(p, "p" + service, r); break;
                    case 4: h.Partial(p, "p" + service, r); break;
                    case 5: h.Reject(p, "p" + service, r); break;
                    case 6: h.Core.WorkerDisconnect(CoreHarness.B(p)); break;
                    case 7: h.Core.InvalidMessage(junk, PigatoErrorCodes.MessageType); break;
                    case 8: h.Tick(); break;
                    case 9: h.Core.ClientRequestHeartbeat(CoreHarness.B(p), CoreHarness.B(r)); break;
                    case 10: h.Core.ClientRequest(junk, junk, junk, junk, junk, junk.Length * 1000); break;
                    default: h.Core.WorkerOversized(CoreHarness.B(p), CoreHarness.B("p" + service), CoreHarness.B(r), 100_000); break;
                }

                var stats = h.Core.Stats();
                Assert.Equal(stats.TrackedRequests, stats.QueuedRequests + stats.InFlightRequests);
                Assert.True(stats.HeldBytes >= 0 && stats.HeldBytes <= h.Options.MaxHeldBytes);
            }

            h.Core.Shutdown();
            Assert.Equal(BrokerStats.Empty, h.Core.Stats());
        }, iter: 2000);
}
