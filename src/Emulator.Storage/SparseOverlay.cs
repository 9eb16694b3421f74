namespace Emulator.Storage;

/// <summary>
/// Writes kept in memory over a medium that must not change (QEMU's <c>snapshot=on</c>, which puts
/// a temporary qcow2 over the image, block.c bdrv_append_temp_snapshot; vvfat's write target).
/// Sparse by 4 KiB chunk: memory grows with what the guest writes, never with the medium's size,
/// and a chunk is copied from below only when a write first covers part of it.
/// </summary>
internal sealed class SparseOverlay(long mediumLength)
{
    public const int ChunkSize = 4096;

    private readonly Dictionary<long, byte[]> _chunks = [];

    /// <summary>Reads <c>length</c> bytes of the medium below at an offset into a span.</summary>
    public delegate void BaseReader(long offset, Span<byte> destination);

    /// <summary>Bytes held: a multiple of <see cref="ChunkSize"/>.</summary>
    public long BytesHeld => (long)_chunks.Count * ChunkSize;

    /// <summary>Fills <paramref name="destination"/> from the overlay where written, from <paramref name="below"/> elsewhere (one call per unwritten run).</summary>
    public void Read(long offset, Span<byte> destination, BaseReader below)
    {
        int done = 0;
        while (done < destination.Length)
        {
            long at = offset + done;
            long chunk = at / ChunkSize;
            int within = (int)(at % ChunkSize);
            if (_chunks.TryGetValue(chunk, out byte[]? data))
            {
                int n = Math.Min(ChunkSize - within, destination.Length - done);
                data.AsSpan(within, n).CopyTo(destination.Slice(done, n));
                done += n;
                continue;
            }

            // The run of unwritten chunks from here, read from below in one call.
            int run = Math.Min(ChunkSize - within, destination.Length - done);
            while (done + run < destination.Length && !_chunks.ContainsKey((at + run) / ChunkSize))
            {
                run = Math.Min(run + ChunkSize, destination.Length - done);
            }

            below(at, destination.Slice(done, run));
            done += run;
        }
    }

    /// <summary>Stores <paramref name="source"/> at <paramref name="offset"/>; a chunk written for the first time starts as a copy of <paramref name="below"/>.</summary>
    public void Write(long offset, ReadOnlySpan<byte> source, BaseReader below)
    {
        int done = 0;
        while (done < source.Length)
        {
            long at = offset + done;
            long chunk = at / ChunkSize;
            int within = (int)(at % ChunkSize);
            int n = Math.Min(ChunkSize - within, source.Length - done);
            if (!_chunks.TryGetValue(chunk, out byte[]? data))
            {
                data = new byte[ChunkSize];
                if (n < ChunkSize)
                {
                    // The medium's last chunk may be shorter (a 512-byte-multiple image); past its end stays zero and is never read.
                    below(chunk * ChunkSize, data.AsSpan(0, (int)Math.Min(ChunkSize, mediumLength - chunk * ChunkSize)));
                }

                _chunks[chunk] = data;
            }

            source.Slice(done, n).CopyTo(data.AsSpan(within));
            done += n;
        }
    }

    /// <summary>Whether any byte of <paramref name="length"/> bytes at <paramref name="offset"/> was written.</summary>
    public bool Touches(long offset, long length)
    {
        if (length <= 0)
        {
            return false;
        }

        long first = offset / ChunkSize, last = (offset + length - 1) / ChunkSize;
        if (last - first + 1 > _chunks.Count)
        {
            return _chunks.Keys.Any(c => c >= first && c <= last);
        }

        for (long c = first; c <= last; c++)
        {
            if (_chunks.ContainsKey(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Forgets every write (after the writes reached their destination).</summary>
    public void Clear() => _chunks.Clear();
}
