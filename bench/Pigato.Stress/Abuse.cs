using System.Collections.Concurrent;
using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace Pigato.Stress;

/// <summary>The hostile or buggy traffic thrown at the broker: every loop is bounded by the deadline and paced.</summary>
internal sealed class Abuse(string endpoint, int seed, DateTime deadline)
{
    private static readonly string[] Tokens = ["C", "W", "1", "2", "3", "4", "5", "6", "7", "", "request", "echo", "void", "{}", "null", "undefined", "{\"concurrency\":5}", "{"];

    /// <summary>What the abusers got back from the broker: refusal codes and other answers, by text.</summary>
    public ConcurrentDictionary<string, long> Answers { get; } = new();

    public long Sent;

    /// <summary>Runs every kind of abuse until the deadline.</summary>
    public Task RunAsync() => Task.WhenAll(
        Task.Run(BigFramesAsync),
        Task.Run(MalformedAsync),
        Task.Run(HoarderAsync),
        Task.Run(SlowConsumerAsync),
        Task.Run(SilentCrowdAsync));

    /// <summary>Ordinary messages with a 1 MiB frame in every position: service name, rid, data, options, extra frames (about 400 a second).</summary>
    private async Task BigFramesAsync()
    {
        var big = new string('x', 1024 * 1024);
        using var dealer = Dealer("big");
        var random = new Random(seed);
        for (var i = 0; DateTime.UtcNow < deadline; i++)
        {
            string[] frames = (i % 5) switch
            {
                0 => ["C", "2", big, "r" + i, "null", "{}"],
                1 => ["C", "2", "void", big, "null", "{}"],
                2 => ["C", "2", "void", "r" + i, "\"" + big + "\"", "{}"],
                3 => ["C", "2", "void", "r" + i, "null", big],
                _ => ["C", "2", "void", "r" + i, "null", "{}", big, big],
            };
            Send(dealer, frames);
            Drain(dealer);
            if (i % 4 == 0)
            {
                await Task.Delay(10 + random.Next(2));
            }
        }
    }

    /// <summary>Random and mutated frames, from clients and would-be workers.</summary>
    private async Task MalformedAsync()
    {
        var random = new Random(seed + 1);
        using var dealer = Dealer("junk");
        for (var i = 0; DateTime.UtcNow < deadline; i++)
        {
            var frames = new string[random.Next(0, 10)];
            for (var f = 0; f < frames.Length; f++)
            {
                frames[f] = random.Next(5) == 0 ? Convert.ToBase64String(BitConverter.GetBytes(random.NextInt64())) : Tokens[random.Next(Tokens.Length)];
            }

            if (frames.Length > 0)
            {
                Send(dealer, frames);
            }

            Drain(dealer);
            if (i % 20 == 0)
            {
                await Task.Delay(10);
            }
        }
    }

    /// <summary>Requests for a service nobody serves, as fast as the broker takes them: held until the limits refuse more.</summary>
    private async Task HoarderAsync()
    {
        var data = "\"" + new string('h', 16 * 1024) + "\"";
        using var dealer = Dealer("hoarder");
        for (var i = 0; DateTime.UtcNow < deadline; i++)
        {
            Send(dealer, "C", "2", "void", "h" + i, data, "{\"timeout\":-1}");
            if (i % 50 == 0)
            {
                Send(dealer, "C", "4");
                Drain(dealer);
                await Task.Delay(5);
            }
        }
    }

    /// <summary>A client that asks for 64 KiB echoes and never reads a reply.</summary>
    private async Task SlowConsumerAsync()
    {
        var data = "\"" + new string('s', 64 * 1024) + "\"";
        using var dealer = Dealer("sloth", receiveHighWatermark: 1);
        for (var i = 0; DateTime.UtcNow < deadline; i++)
        {
            Send(dealer, "C", "2", "echo", "s" + i, data, "{}");
            await Task.Delay(10);
        }
    }

    /// <summary>Fifty clients that each queue requests, then go silent without a heartbeat.</summary>
    private async Task SilentCrowdAsync()
    {
        for (var round = 0; DateTime.UtcNow < deadline; round++)
        {
            var crowd = Enumerable.Range(0, 50).Select(i => Dealer($"silent-{round}-{i}")).ToList();
            foreach (var dealer in crowd)
            {
                for (var r = 0; r < 200; r++)
                {
                    Send(dealer, "C", "2", "void", "q" + r, "\"quiet\"", "{\"timeout\":-1}");
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            foreach (var dealer in crowd)
            {
                Drain(dealer);
                dealer.Dispose();
            }
        }
    }

    private DealerSocket Dealer(string identity, int receiveHighWatermark = 1000)
    {
        var dealer = new DealerSocket();
        dealer.Options.Identity = Encoding.UTF8.GetBytes(identity + "-" + Guid.NewGuid().ToString("N")[..8]);
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Options.ReceiveHighWatermark = receiveHighWatermark;
        dealer.Options.SendHighWatermark = 1000;
        dealer.Connect(endpoint);
        return dealer;
    }

    private void Send(DealerSocket dealer, params string[] frames)
    {
        var message = new NetMQMessage();
        foreach (var frame in frames)
        {
            message.Append(frame);
        }

        // A full pipe (the broker refusing to read as fast) drops the message: an abuser does not wait.
        if (dealer.TrySendMultipartMessage(TimeSpan.Zero, message))
        {
            Interlocked.Increment(ref Sent);
        }
    }

    /// <summary>Reads what the broker answered (refusals), counting error codes.</summary>
    private void Drain(DealerSocket dealer)
    {
        var frames = new List<string>();
        for (var i = 0; i < 1000 && dealer.TryReceiveMultipartStrings(TimeSpan.Zero, Encoding.UTF8, ref frames); i++)
        {
            var key = frames is ["C", "3", _, _, "-1", var error, ..] ? error.Trim('"') : frames is [_, var type, ..] ? "type " + type : "other";
            Answers.AddOrUpdate(key, 1, (_, n) => n + 1);
            frames.Clear();
        }
    }
}
