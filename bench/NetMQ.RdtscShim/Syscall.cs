using System.Runtime.InteropServices;

namespace Mono.Unix.Native;

/// <summary>The protection flags NetMQ asks mmap for (Linux values).</summary>
[Flags]
public enum MmapProts
{
    PROT_READ = 1,
    PROT_WRITE = 2,
    PROT_EXEC = 4,
}

/// <summary>The mapping flags NetMQ asks mmap for (Linux values).</summary>
[Flags]
public enum MmapFlags
{
    MAP_PRIVATE = 2,
    MAP_ANONYMOUS = 0x20,
}

/// <summary>What <see cref="Syscall.uname"/> fills: NetMQ reads <c>machine</c> to rule out ARM.</summary>
public sealed class Utsname
{
    public string machine = RuntimeInformation.ProcessArchitecture.ToString();
}

/// <summary>The two calls NetMQ makes through Mono.Posix: mmap for its rdtsc stub, uname to rule out ARM.</summary>
public static class Syscall
{
    public static nint mmap(nint start, ulong length, MmapProts prot, MmapFlags flags, int fd, long offset) =>
        Map(start, (nuint)length, (int)prot, (int)flags, fd, offset);

    public static int uname(out Utsname buf)
    {
        buf = new Utsname();
        return 0;
    }

    [DllImport("libc", EntryPoint = "mmap")]
    private static extern nint Map(nint addr, nuint length, int prot, int flags, int fd, long offset);
}
