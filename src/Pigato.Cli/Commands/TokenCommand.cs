using System.CommandLine;
using Pigato.Security;

namespace Pigato.Cli.Commands;

/// <summary><c>pigato token &lt;principal&gt;</c>: makes a token for a principal and the permissions-file entry that accepts it.</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var principal = new Argument<string>("principal") { Description = "The principal's name in the broker's permissions file." };
        var command = new Command("token", "Make a random token for a principal: the token (give it to the client or worker, e.g. in a file for --token-file) and the tokenHash for the broker's permissions file.") { principal };
        command.SetAction(async parse =>
        {
            var (token, hash) = Permissions.NewToken();
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync($"token:     {token}");
            await output.WriteLineAsync($"permissions entry: \"{parse.GetValue(principal)}\": {{ \"tokenHash\": \"{hash}\", \"request\": [], \"serve\": [] }}");
            return 0;
        });
        return command;
    }
}
