using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Pigato.Internal;

/// <summary>
/// Linux's epoll for a <see cref="SocketPoller"/>: the kernel keeps the set of watched sockets, so a wait costs the same
/// with ten connections or ten thousand (<see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>
/// hands every socket to the kernel at every wait: with 2,000 idle connections, 15x the broker's CPU per request).
/// Level-triggered, readability only: what Select reported. Loop thread only.
/// </summary>
internal sealed unsafe partial class EpollSet : IDisposable
{
    private const int EpollCloexec = 0x80000;
    private const int Add = 1;
    private const int Delete = 2;
    private const int Modify = 3;
    private const uint In = 0x001;
    private const int Interrupted = 4;
    private const int AlreadyThere = 17;
    private const int MaxEvents = 256;

    /// <summary>struct epoll_event: packed on x86 and x86-64 (12 bytes), aligned elsewhere (16).</summary>
    private static readonly int EventSize = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 12 : 16;

    private readonly int _descriptor;
    private readonly Dictionary<int, Socket> _sockets = [];
    private readonly Dictionary<Socket, int> _descriptors = [];
    private readonly byte[] _events = GC.AllocateArray<byte>(MaxEvents * EventSize, pinned: true);
    private bool _disposed;

    private EpollSet(int descriptor) => _descriptor = descriptor;

    /// <summary>An epoll set, or null where there is none (not Linux, or the call failed): the poller uses Select.</summary>
    public static EpollSet? TryCreate()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var descriptor = epoll_create1(EpollCloexec);
        return descriptor < 0 ? null : new EpollSet(descriptor);
    }

    public void Watch(Socket socket)
    {
        var fd = (int)socket.Handle;
        var change = stackalloc byte[16];
        *(uint*)change = In;
        *(ulong*)(change + EventSize - 8) = (uint)fd;
        if (epoll_ctl(_descriptor, Add, fd, change) != 0
            && (Marshal.GetLastPInvokeError() != AlreadyThere || epoll_ctl(_descriptor, Modify, fd, change) != 0))
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        _sockets[fd] = socket;
        _descriptors[socket] = fd;
    }

    public void Forget(Socket socket)
    {
        if (!_descriptors.Remove(socket, out var fd) || !_sockets.TryGetValue(fd, out var watched) || watched != socket)
        {
            return; // not watched, or closed unforgotten and its descriptor since reused by another socket
        }

        _sockets.Remove(fd);
        if (!_disposed)
        {
            // A closed socket left the kernel's set by itself (the call then fails: nothing to undo).
            _ = epoll_ctl(_descriptor, Delete, fd, null);
        }
    }

    /// <summary>Waits up to <paramref name="milliseconds"/> (-1: no limit) and adds the sockets that are readable (or failed) to <paramref name="ready"/>.</summary>
    public void Wait(int milliseconds, List<Socket> ready)
    {
        int count;
        fixed (byte* events = _events)
        {
            count = epoll_wait(_descriptor, events, MaxEvents, milliseconds);
            if (count < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error == Interrupted)
                {
                    return;
                }

                throw new SocketException(error);
            }

            for (var i = 0; i < count; i++)
            {
                var fd = (int)*(ulong*)(events + (i * EventSize) + EventSize - 8);
                if (_sockets.TryGetValue(fd, out var socket))
                {
                    ready.Add(socket);
                }
            }
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _ = close(_descriptor);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, byte* change);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
