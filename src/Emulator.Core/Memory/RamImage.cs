namespace Emulator.Core.Memory;

/// <summary>
/// An immutable copy of a machine's RAM: the runs of pages that are not all zero, in a memory
/// file (Linux memfd, written with pwrite and read through a shared read-only view) or in a
/// managed buffer elsewhere. Pages outside the runs are zero. Any number of machines restore
/// from one image (<see cref="GuestRam.Restore"/>). Thread-safe to read.
/// </summary>
public sealed unsafe class RamImage : IDisposable
{
    private const int PageSize = (int)PhysicalBus.PageSize;
    private byte* _view;
    private byte[]? _buffer;

    private RamImage(ulong size, IReadOnlyList<PageRun> runs)
    {
        Size = size;
        Runs = runs;
    }

    /// <summary>A run of consecutive non-zero pages: first page number and page count.</summary>
    public readonly record struct PageRun(ulong FirstPage, ulong Pages);

    public ulong Size { get; }

    /// <summary>The pages that hold something; everything else reads as zero.</summary>
    public IReadOnlyList<PageRun> Runs { get; }

    /// <summary>The memory file behind the image, or -1 when it lives in a managed buffer.</summary>
    internal int FileDescriptor { get; private set; } = -1;

    /// <summary>Bytes the image holds (its non-zero pages).</summary>
    public ulong StoredBytes => (ulong)Runs.Sum(r => (long)r.Pages) * (ulong)PageSize;

    /// <summary>The bytes at <paramref name="offset"/> (inside a run) for <paramref name="length"/> bytes.</summary>
    public ReadOnlySpan<byte> Bytes(ulong offset, int length) => new(Base + offset, length);

    private byte* Base => _view != null ? _view : (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _buffer![0]);

    /// <summary>Copies the non-zero pages of <paramref name="ram"/> (never-touched pages are skipped without reading them).</summary>
    internal static RamImage CopyOf(byte* ram, ulong size)
    {
        var runs = NonZeroRuns(ram, size);
        return Create(size, runs, (offset, length, _) => new ReadOnlySpan<byte>(ram + offset, length));
    }

    /// <summary>An image whose runs' bytes <paramref name="fill"/> writes, in order, a chunk at a time into the spans it is given (state files).</summary>
    public static RamImage Build(ulong size, IReadOnlyList<PageRun> runs, Action<Span<byte>> fill) =>
        Create(size, runs, (_, length, buffer) =>
        {
            var chunk = buffer.AsSpan(0, length);
            fill(chunk);
            return chunk;
        });

    /// <summary>
    /// The image with each run's bytes from <paramref name="source"/> (offset, length, a scratch
    /// buffer of at least that length): written into the memory file with pwrite, a megabyte at a
    /// time — the kernel fills its pages without a page fault each, which costs more than the copy.
    /// </summary>
    private static RamImage Create(ulong size, IReadOnlyList<PageRun> runs, SourceChunk source)
    {
        var image = new RamImage(size, runs);
        var scratch = new byte[Chunk];
        if (OperatingSystem.IsLinux())
        {
            int fd = Native.memfd_create("emu-ram-image", Native.MfdCloexec);
            if (fd >= 0 && Native.ftruncate(fd, (long)size) == 0 && ForEachChunk(runs, (offset, length) =>
                {
                    var bytes = source(offset, length, scratch);
                    fixed (byte* p = bytes)
                    {
                        return Native.pwrite(fd, p, (nuint)length, (long)offset) == length;
                    }
                }))
            {
                var view = Native.mmap(IntPtr.Zero, (nuint)size, Native.ProtRead, Native.MapShared | Native.MapNoReserve, fd, 0);
                if (view != Native.MapFailed)
                {
                    image.FileDescriptor = fd;
                    image._view = (byte*)view;
                    return image;
                }
            }

            if (fd >= 0)
            {
                Native.close(fd);
            }
        }

        image._buffer = GC.AllocateArray<byte>(checked((int)size), pinned: true);
        ForEachChunk(runs, (offset, length) =>
        {
            source(offset, length, scratch).CopyTo(image._buffer.AsSpan((int)offset, length));
            return true;
        });
        return image;
    }

    private const int Chunk = 1 << 20;

    private delegate ReadOnlySpan<byte> SourceChunk(ulong offset, int length, byte[] scratch);

    /// <summary>Calls <paramref name="chunk"/> (offset, length) over every run a megabyte at a time, in order; false when one fails.</summary>
    private static bool ForEachChunk(IReadOnlyList<PageRun> runs, Func<ulong, int, bool> chunk)
    {
        foreach (var run in runs)
        {
            ulong start = run.FirstPage * PageSize, end = (run.FirstPage + run.Pages) * PageSize;
            for (ulong offset = start; offset < end; offset += Chunk)
            {
                if (!chunk(offset, (int)Math.Min(Chunk, end - offset)))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Copies <paramref name="length"/> bytes at <paramref name="offset"/> to <paramref name="target"/>.</summary>
    internal void CopyRange(ulong offset, ulong length, byte* target) => Buffer.MemoryCopy(Base + offset, target, length, length);

    /// <summary>Writes the whole image, zeros included, to <paramref name="ram"/> (the copy fallback).</summary>
    internal void CopyTo(byte* ram)
    {
        new Span<byte>(ram, checked((int)Size)).Clear();
        foreach (var run in Runs)
        {
            ulong offset = run.FirstPage * PageSize;
            Buffer.MemoryCopy(Base + offset, ram + offset, run.Pages * PageSize, run.Pages * PageSize);
        }
    }

    private static List<PageRun> NonZeroRuns(byte* ram, ulong size)
    {
        ulong pages = size / PageSize;
        byte[]? resident = null;
        if (OperatingSystem.IsLinux())
        {
            // Pages the guest never touched are not resident: zero without reading (and so
            // without making the kernel map its zero page into every one of them).
            resident = new byte[pages];
            fixed (byte* vec = resident)
            {
                if (Native.mincore((IntPtr)ram, (nuint)size, vec) != 0)
                {
                    resident = null;
                }
            }
        }

        var runs = new List<PageRun>();
        ulong start = 0, count = 0;
        for (ulong page = 0; page < pages; page++)
        {
            bool stored = (resident == null || (resident[page] & 1) != 0) &&
                new ReadOnlySpan<byte>(ram + (page * PageSize), PageSize).ContainsAnyExcept((byte)0);
            if (stored)
            {
                if (count == 0)
                {
                    start = page;
                }

                count++;
            }
            else if (count > 0)
            {
                runs.Add(new PageRun(start, count));
                count = 0;
            }
        }

        if (count > 0)
        {
            runs.Add(new PageRun(start, count));
        }

        return runs;
    }

    public void Dispose()
    {
        if (_view != null)
        {
            Native.munmap((IntPtr)_view, (nuint)Size);
            _view = null;
        }

        if (FileDescriptor >= 0)
        {
            Native.close(FileDescriptor);
            FileDescriptor = -1;
        }

        _buffer = null;
    }
}
