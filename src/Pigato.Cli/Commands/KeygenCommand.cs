using System.CommandLine;
using Pigato.Security;

namespace Pigato.Cli.Commands;

/// <summary><c>pigato keygen &lt;name&gt;</c>: writes a CURVE key pair as ZeroMQ certificate files.</summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Path and base name of the files: NAME.key (public, give it to clients and workers) and NAME.key_secret (the broker's, owner-only)." };
        var force = new Option<bool>("--force") { Description = "Overwrite existing files." };
        var command = new Command("keygen", "Write a CURVE key pair for a broker: NAME.key (public) and NAME.key_secret (secret, readable by its owner only).") { name, force };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(name)!;
            if (!parse.GetValue(force) && (File.Exists(path + ".key") || File.Exists(path + ".key_secret")))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {path}.key or {path}.key_secret exists already (--force overwrites).");
                return 1;
            }

            var publicKey = CurveKeys.WriteKeyPair(path);
            await parse.InvocationConfiguration.Output.WriteLineAsync($"wrote {path}.key (public key {publicKey}) and {path}.key_secret (keep it on the broker)");
            return 0;
        });
        return command;
    }
}
