using Emulator.Core.Storage;

namespace Emulator.Storage.Qcow2;

/// <summary>
/// A qcow2 image (v2 or v3) as a drive reads it: <see cref="Qcow2Layer"/> over its backing chain,
/// with <c>snapshot=on</c>'s writes in a <see cref="SparseOverlay"/> exactly as
/// <see cref="RawImageBackend"/> keeps them. emu never writes a qcow2 file — allocating clusters
/// and keeping refcounts right is where images get corrupted — so a writable qcow2 drive is
/// refused at open with the ways out; a read-only drive (a CD-ROM) reads it directly.
/// </summary>
public sealed class Qcow2Backend : IBlockBackend
{
    /// <summary>Backing files deeper than this are refused (a loop through links the path check misses ends here too).</summary>
    public const int MaxChainDepth = 64;

    private readonly Qcow2Layer _top;
    private readonly SparseOverlay? _overlay;

    private Qcow2Backend(Qcow2Layer top, RawImageMode mode)
    {
        _top = top;
        Mode = mode;
        _overlay = mode == RawImageMode.Snapshot ? new SparseOverlay(top.Length) : null;
    }

    public long Length => _top.Length;

    public RawImageMode Mode { get; }

    public bool ReadOnly => Mode == RawImageMode.ReadOnly;

    /// <summary>The image's header (cluster size, version, backing file name).</summary>
    public Qcow2Header Header => _top.Header;

    /// <summary>The backing chain's files below the image, top first, as resolved.</summary>
    public IReadOnlyList<string> BackingChain { get; private init; } = [];

    /// <summary>Memory held by <c>snapshot=on</c> writes (0 otherwise).</summary>
    public long OverlayBytes => _overlay?.BytesHeld ?? 0;

    /// <summary>
    /// Opens the qcow2 image <paramref name="path"/> and its backing chain. <see cref="RawImageMode.ReadWrite"/>
    /// is refused; so is anything <see cref="Qcow2Header"/> or <see cref="Qcow2Layer"/> cannot read
    /// correctly — each as a one-line <see cref="StorageException"/>.
    /// </summary>
    public static Qcow2Backend Open(string path, RawImageMode mode)
    {
        if (mode == RawImageMode.ReadWrite)
        {
            throw new StorageException(
                $"disk image '{path}' is qcow2, which emu reads but does not write: add snapshot=on (emu boot: --disk FILE,snapshot) so the guest's writes stay in memory, or convert it with 'qemu-img convert -O raw'");
        }

        var chain = new List<string>();
        var top = OpenLayer(path, chain, [CanonicalPath(path)]);
        return new Qcow2Backend(top, mode) { BackingChain = chain };
    }

    public void Read(long offset, Span<byte> destination)
    {
        if (_overlay != null)
        {
            BlockRange.Check(Length, offset, destination.Length);
            _overlay.Read(offset, destination, _top.Read);
        }
        else
        {
            _top.Read(offset, destination);
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        if (_overlay == null)
        {
            throw new BlockBackendException("the medium is read-only (readonly=on)");
        }

        BlockRange.Check(Length, offset, source.Length);
        _overlay.Write(offset, source, _top.Read);
    }

    /// <summary>Nothing to make durable: the file is never written, snapshot writes are dropped by design.</summary>
    public void Flush()
    {
    }

    public void Dispose() => _top.Dispose();

    private static Qcow2Layer OpenLayer(string path, List<string> chain, HashSet<string> seen) =>
        Qcow2Layer.Open(path, header => header.BackingFile is { } name ? OpenBacking(path, name, header.BackingFormat, chain, seen) : null);

    /// <summary>
    /// The backing file, resolved as QEMU resolves it (block.c bdrv_get_full_backing_filename →
    /// path_combine): an absolute name as it is, a relative one against the directory of the image
    /// that names it; its format from the backing-format extension, or probed by its magic.
    /// </summary>
    private static IBlockBackend OpenBacking(string imagePath, string name, string? format, List<string> chain, HashSet<string> seen)
    {
        string what = $"qcow2 image '{imagePath}'";
        if (HasProtocol(name))
        {
            throw new StorageException($"{what} has the backing file '{name}', which is not a local file emu opens");
        }

        string path = Path.IsPathRooted(name) ? name : Path.Combine(Path.GetDirectoryName(imagePath) ?? "", name);
        if (chain.Count >= MaxChainDepth)
        {
            throw new StorageException($"{what}'s backing chain is deeper than {MaxChainDepth} images");
        }

        if (!seen.Add(CanonicalPath(path)))
        {
            throw new StorageException($"{what}'s backing file '{path}' is already in its chain (a backing-file loop)");
        }

        chain.Add(path);
        bool qcow2 = format switch
        {
            "qcow2" => true,
            "raw" => false,
            null => DiskImage.Probe(path) == DiskImageFormat.Qcow2,
            _ => throw new StorageException($"{what}'s backing file '{path}' is in format '{format}'; emu reads raw and qcow2"),
        };
        return qcow2 ? OpenLayer(path, chain, seen) : RawImageBackend.Open(path, RawImageMode.ReadOnly);
    }

    /// <summary>QEMU's path_has_protocol (cutils.c): a ':' before the first '/' ("nbd:…", "json:…").</summary>
    private static bool HasProtocol(string name)
    {
        int colon = name.IndexOf(':', StringComparison.Ordinal);
        int slash = name.IndexOf('/', StringComparison.Ordinal);
        return colon >= 0 && (slash < 0 || colon < slash);
    }

    /// <summary>The absolute path with a final symbolic link followed, to recognise a file named twice.</summary>
    private static string CanonicalPath(string path)
    {
        var file = new FileInfo(Path.GetFullPath(path));
        try
        {
            return file.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? file.FullName;
        }
        catch (IOException)
        {
            // A link loop: the open reports it by name.
            return file.FullName;
        }
    }
}
