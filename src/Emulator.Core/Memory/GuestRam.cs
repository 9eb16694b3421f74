using System.Runtime.InteropServices;

namespace Emulator.Core.Memory;

/// <summary>
/// The machine's RAM as one host mapping that stays at the same address for the machine's life,
/// so the bus's regions and the CPU's TLB keep their pointers across a restore. On Linux it is an
/// anonymous mapping (pages committed on first touch, as before). <see cref="Capture"/> copies the
/// pages that hold anything into an in-memory file (<see cref="RamImage"/>); <see cref="Restore"/>
/// copies the image's pages back and drops every page between them (madvise MADV_DONTNEED: an
/// anonymous page dropped reads as zero), so RAM pages stay the process's own and a restore
/// costs a copy of the used RAM — no page fault per page afterwards. A copy-on-write mapping of
/// the image (mmap MAP_PRIVATE | MAP_FIXED) restores in one call but pays a fault for every page
/// the guest then touches, which measured slower here (docs/snapshots.md).
/// </summary>
public sealed unsafe class GuestRam : IDisposable
{
    private readonly bool _mapped;

    private GuestRam(byte* host, ulong size, bool mapped)
    {
        Host = host;
        Size = size;
        _mapped = mapped;
    }

    public byte* Host { get; private set; }

    public ulong Size { get; }

    public static GuestRam Allocate(ulong size)
    {
        if (OperatingSystem.IsLinux())
        {
            var p = Native.mmap(IntPtr.Zero, (nuint)size, Native.ProtRead | Native.ProtWrite, Native.MapPrivate | Native.MapAnonymous | Native.MapNoReserve, -1, 0);
            if (p != Native.MapFailed)
            {
                return new GuestRam((byte*)p, size, mapped: true);
            }
        }

        return new GuestRam((byte*)NativeMemory.AllocZeroed((nuint)size), size, mapped: false);
    }

    /// <summary>A copy of the RAM as it is now, holding only the pages that are not all zero.</summary>
    public RamImage Capture() => RamImage.CopyOf(Host, Size);

    /// <summary>Makes the RAM what <paramref name="image"/> holds (see the class summary for the cost).</summary>
    public void Restore(RamImage image)
    {
        if (image.Size != Size)
        {
            throw new ArgumentException($"the RAM image is {image.Size} bytes, this machine has {Size}", nameof(image));
        }

        if (!_mapped)
        {
            image.CopyTo(Host);
            return;
        }

        ulong page = 0;
        foreach (var run in image.Runs.Append(new RamImage.PageRun(Size / PhysicalBus.PageSize, 0)))
        {
            if (run.FirstPage > page && Native.madvise((IntPtr)(Host + (page * PhysicalBus.PageSize)), (nuint)((run.FirstPage - page) * PhysicalBus.PageSize), Native.MadvDontNeed) != 0)
            {
                new Span<byte>(Host + (page * PhysicalBus.PageSize), checked((int)((run.FirstPage - page) * PhysicalBus.PageSize))).Clear();
            }

            ulong offset = run.FirstPage * PhysicalBus.PageSize, length = run.Pages * PhysicalBus.PageSize;
            image.CopyRange(offset, length, Host + offset);
            page = run.FirstPage + run.Pages;
        }
    }

    public void Dispose()
    {
        if (Host == null)
        {
            return;
        }

        if (_mapped)
        {
            Native.munmap((IntPtr)Host, (nuint)Size);
        }
        else
        {
            NativeMemory.Free(Host);
        }

        Host = null;
    }
}

/// <summary>The Linux calls <see cref="GuestRam"/> and <see cref="RamImage"/> use (x86-64 constants, man 2 mmap, memfd_create, mincore).</summary>
internal static class Native
{
    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int MapShared = 0x01;
    public const int MapPrivate = 0x02;
    public const int MapFixed = 0x10;
    public const int MapAnonymous = 0x20;
    public const int MapNoReserve = 0x4000;
    public const uint MfdCloexec = 1;
    public const int MadvDontNeed = 4;
    public static readonly IntPtr MapFailed = new(-1);

    [DllImport("libc", SetLastError = true)]
    public static extern IntPtr mmap(IntPtr addr, nuint length, int prot, int flags, int fd, long offset);

    [DllImport("libc", SetLastError = true)]
    public static extern int munmap(IntPtr addr, nuint length);

    [DllImport("libc", SetLastError = true)]
    public static extern int madvise(IntPtr addr, nuint length, int advice);

    [DllImport("libc", SetLastError = true)]
    public static extern unsafe long pwrite(int fd, byte* buffer, nuint count, long offset);

    [DllImport("libc", SetLastError = true)]
    public static extern int memfd_create([MarshalAs(UnmanagedType.LPStr)] string name, uint flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int ftruncate(int fd, long length);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern unsafe int mincore(IntPtr addr, nuint length, byte* vec);
}
