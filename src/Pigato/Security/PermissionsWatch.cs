using Microsoft.Extensions.Logging;

namespace Pigato.Security;

/// <summary>A permissions file read at start (a bad one stops the broker) and again whenever it changes (a bad change is logged and ignored).</summary>
internal sealed class PermissionsWatch
{
    private readonly string _path;
    private (DateTime Written, long Length) _version;

    /// <exception cref="PigatoException">The file cannot be read or is not valid (<c>ERR_PERMISSIONS</c>).</exception>
    public PermissionsWatch(string path)
    {
        _path = path;
        _version = Version();
        Current = Permissions.Load(path);
    }

    public Permissions Current { get; private set; }

    /// <summary>The new permissions when the file changed since the last look, else null.</summary>
    public Permissions? Reload(ILogger logger)
    {
        var version = Version();
        if (version == _version)
        {
            return null;
        }

        _version = version;
        try
        {
            Current = Permissions.Load(_path);
            Internal.Log.PermissionsReloaded(logger, _path);
            return Current;
        }
        catch (PigatoException e)
        {
            Internal.Log.PeerError(logger, e.Code, null, e.Message + "; the previous permissions stay in force", e);
            return null;
        }
    }

    private (DateTime, long) Version()
    {
        var file = new FileInfo(_path);
        return file.Exists ? (file.LastWriteTimeUtc, file.Length) : (DateTime.MinValue, -1);
    }
}
