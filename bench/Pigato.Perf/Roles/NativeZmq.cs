using System.Runtime.InteropServices;
using System.Text;

namespace Pigato.Perf.Roles;

/// <summary>
/// The few libzmq calls the native prototype needs (Debian's libzmq5, through P/Invoke): benchmark only, to measure what
/// native ZeroMQ gives for the same exchange as NetMQ. Errors throw with zmq_strerror's text.
/// </summary>
internal static partial class NativeZmq
{
    public const string Library = "libzmq.so.5";
    public const int Router = 6;
    public const int Dealer = 5;
    public const int SendMore = 2;
    private const int RoutingId = 5;
    private const int RcvMore = 13;
    private const int Linger = 17;
    private const int SndHwm = 23;
    private const int RcvHwm = 24;
    private const int RcvTimeo = 27;
    private const int LastEndpoint = 32;
    private const int RouterMandatory = 33;
    private const int Eagain = 11;

    /// <summary>Why libzmq cannot be used here, or null.</summary>
    public static string? Unavailable =>
        NativeLibrary.TryLoad(Library, out var handle) ? Free(handle) : "libzmq5 is not installed (apt-get install libzmq5)";

    private static string? Free(nint handle)
    {
        NativeLibrary.Free(handle);
        return null;
    }

    public static nint Context() => Check(zmq_ctx_new());

    /// <summary>A socket with no linger, deep queues and a receive timeout (so that loops can stop); ROUTERs report unroutable sends.</summary>
    public static nint Socket(nint context, int type, byte[]? identity = null)
    {
        var socket = Check(zmq_socket(context, type));
        SetInt(socket, Linger, 0);
        SetInt(socket, SndHwm, 50_000);
        SetInt(socket, RcvHwm, 50_000);
        SetInt(socket, RcvTimeo, 100);
        if (type == Router)
        {
            SetInt(socket, RouterMandatory, 1);
        }

        if (identity is not null)
        {
            Check(zmq_setsockopt(socket, RoutingId, identity, identity.Length));
        }

        return socket;
    }

    public static string Bind(nint socket, string endpoint)
    {
        Check(zmq_bind(socket, endpoint));
        var buffer = new byte[256];
        var length = (nint)buffer.Length;
        Check(zmq_getsockopt(socket, LastEndpoint, buffer, ref length));
        return Encoding.ASCII.GetString(buffer, 0, (int)length - 1);
    }

    public static void Connect(nint socket, string endpoint) => Check(zmq_connect(socket, endpoint));

    public static void Send(nint socket, ReadOnlySpan<byte> frame, bool more)
    {
        if (zmq_send(socket, frame, frame.Length, more ? SendMore : 0) < 0)
        {
            throw Error("zmq_send");
        }
    }

    /// <summary>One frame into <paramref name="buffer"/>; its length, or -1 after the receive timeout.</summary>
    public static int Receive(nint socket, byte[] buffer)
    {
        var length = zmq_recv(socket, buffer, buffer.Length, 0);
        if (length < 0)
        {
            return zmq_errno() == Eagain ? -1 : throw Error("zmq_recv");
        }

        return Math.Min(length, buffer.Length);
    }

    /// <summary>True when the frame just received has more parts.</summary>
    public static bool More(nint socket)
    {
        var more = 0;
        var size = (nint)sizeof(int);
        Check(zmq_getsockopt(socket, RcvMore, ref more, ref size));
        return more != 0;
    }

    public static void Close(nint socket) => Check(zmq_close(socket));

    public static void Terminate(nint context) => Check(zmq_ctx_term(context));

    private static void SetInt(nint socket, int option, int value) => Check(zmq_setsockopt(socket, option, ref value, sizeof(int)));

    private static nint Check(nint pointer) => pointer != 0 ? pointer : throw Error("libzmq");

    private static void Check(int result)
    {
        if (result < 0)
        {
            throw Error("libzmq");
        }
    }

    private static InvalidOperationException Error(string call) => new($"{call}: {Marshal.PtrToStringUTF8(zmq_strerror(zmq_errno()))}");

    [LibraryImport(Library)]
    private static partial nint zmq_ctx_new();

    [LibraryImport(Library)]
    private static partial int zmq_ctx_term(nint context);

    [LibraryImport(Library)]
    private static partial nint zmq_socket(nint context, int type);

    [LibraryImport(Library)]
    private static partial int zmq_close(nint socket);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int zmq_bind(nint socket, string endpoint);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int zmq_connect(nint socket, string endpoint);

    [LibraryImport(Library)]
    private static partial int zmq_setsockopt(nint socket, int option, ref int value, nint size);

    [LibraryImport(Library)]
    private static partial int zmq_setsockopt(nint socket, int option, byte[] value, nint size);

    [LibraryImport(Library)]
    private static partial int zmq_getsockopt(nint socket, int option, byte[] value, ref nint size);

    [LibraryImport(Library)]
    private static partial int zmq_getsockopt(nint socket, int option, ref int value, ref nint size);

    [LibraryImport(Library)]
    private static partial int zmq_send(nint socket, ReadOnlySpan<byte> buffer, nint length, int flags);

    [LibraryImport(Library)]
    private static partial int zmq_recv(nint socket, byte[] buffer, nint length, int flags);

    [LibraryImport(Library)]
    private static partial int zmq_errno();

    [LibraryImport(Library)]
    private static partial nint zmq_strerror(int errnum);
}
