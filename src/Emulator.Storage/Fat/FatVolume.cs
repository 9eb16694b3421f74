using System.Buffers.Binary;
using Emulator.Core.Storage;

namespace Emulator.Storage.Fat;

/// <summary>
/// Reads a FAT16 file system from a disk — the one a guest left on a <see cref="HostFolderDisk"/>,
/// or any FAT16 image — into a <see cref="FolderNode"/> tree, checking it the way fsck.fat would
/// before anything is taken from it (Microsoft FAT specification 1.03: BPB section 3, FAT section 4,
/// directories 6, long names 7). Refused with <see cref="InvalidDataException"/> naming the first
/// problem: a boot sector that is not FAT16 with 512-byte sectors; a chain that leaves the
/// volume, ends in a free or bad cluster, or loops; a cluster in two chains (cross-linked); a file
/// whose chain is shorter than its size; a directory entry whose name cannot be a host name
/// ("..", "/" inside, control characters); two entries with the same name (case-insensitive);
/// directories nested deeper than <see cref="MaxDepth"/>. Tolerated, as fsck repairs them without
/// losing data: clusters marked used that no file uses (lost clusters, which edk2's FAT driver can
/// leave — docs/storage.md), a chain longer than its file needs, FAT copies that differ (the first
/// is the one read, FAT spec 3.2), long-name entries whose checksum does not match (the short name
/// is used, FAT spec 7.2).
/// </summary>
internal sealed class FatVolume
{
    public const int MaxDepth = 64;

    private readonly IBlockBackend _disk;
    private readonly long _volume;
    private readonly ushort[] _fat;
    private readonly string?[] _owner;

    private FatVolume(IBlockBackend disk, long volume, int clusterSize, long firstData, uint lastCluster, ushort[] fat)
    {
        _disk = disk;
        _volume = volume;
        ClusterSize = clusterSize;
        FirstDataOffset = firstData;
        LastCluster = lastCluster;
        _fat = fat;
        _owner = new string?[lastCluster + 1];
        Root = new FolderNode("", isDirectory: true);
    }

    public int ClusterSize { get; }

    /// <summary>Byte offset of cluster 2 on the disk.</summary>
    public long FirstDataOffset { get; }

    public uint LastCluster { get; }

    public FolderNode Root { get; }

    public long ClusterOffset(uint cluster) => FirstDataOffset + (long)(cluster - 2) * ClusterSize;

    /// <summary>Reads and checks the file system of <paramref name="disk"/>: in the first MBR partition when there is one of a FAT type, else from sector 0.</summary>
    public static FatVolume Read(IBlockBackend disk)
    {
        byte[] sector = new byte[VvfatGeometry.SectorSize];
        ReadAt(disk, 0, sector);
        long volume = 0;
        byte type = sector[0x1BE + 4];
        if (sector[510] == 0x55 && sector[511] == 0xAA && type is 0x01 or 0x04 or 0x06 or 0x0B or 0x0C or 0x0E)
        {
            volume = (long)BinaryPrimitives.ReadUInt32LittleEndian(sector.AsSpan(0x1BE + 8)) * VvfatGeometry.SectorSize;
            ReadAt(disk, volume, sector);
        }

        int bytesPerSector = BinaryPrimitives.ReadUInt16LittleEndian(sector.AsSpan(11));
        int sectorsPerCluster = sector[13];
        int reserved = BinaryPrimitives.ReadUInt16LittleEndian(sector.AsSpan(14));
        int fats = sector[16];
        int rootEntries = BinaryPrimitives.ReadUInt16LittleEndian(sector.AsSpan(17));
        long total = BinaryPrimitives.ReadUInt16LittleEndian(sector.AsSpan(19)) is ushort t16 and not 0 ? t16 : BinaryPrimitives.ReadUInt32LittleEndian(sector.AsSpan(32));
        int sectorsPerFat = BinaryPrimitives.ReadUInt16LittleEndian(sector.AsSpan(22));
        if (sector[510] != 0x55 || sector[511] != 0xAA || bytesPerSector != VvfatGeometry.SectorSize || sectorsPerCluster == 0
            || (sectorsPerCluster & (sectorsPerCluster - 1)) != 0 || reserved == 0 || fats == 0 || sectorsPerFat == 0)
        {
            throw new InvalidDataException("the boot sector is not a FAT16 boot sector with 512-byte sectors");
        }

        int rootSectors = (rootEntries * FatEntry.Size + VvfatGeometry.SectorSize - 1) / VvfatGeometry.SectorSize;
        long dataStart = reserved + (long)fats * sectorsPerFat + rootSectors;
        long clusters = (total - dataStart) / sectorsPerCluster;
        if (clusters < 4085 || clusters >= 65525 || (long)sectorsPerFat * VvfatGeometry.SectorSize / 2 < clusters + 2
            || volume + total * VvfatGeometry.SectorSize > disk.Length)
        {
            throw new InvalidDataException($"the boot sector describes no FAT16 volume that fits the disk ({clusters} clusters)");
        }

        byte[] fatBytes = new byte[(clusters + 2) * 2];
        ReadAt(disk, volume + (long)reserved * VvfatGeometry.SectorSize, fatBytes);
        var fat = new ushort[clusters + 2];
        for (int i = 0; i < fat.Length; i++)
        {
            fat[i] = BinaryPrimitives.ReadUInt16LittleEndian(fatBytes.AsSpan(2 * i));
        }

        var v = new FatVolume(disk, volume, sectorsPerCluster * VvfatGeometry.SectorSize, volume + dataStart * VvfatGeometry.SectorSize, (uint)clusters + 1, fat);
        byte[] root = new byte[rootEntries * FatEntry.Size];
        ReadAt(disk, volume + (reserved + (long)fats * sectorsPerFat) * VvfatGeometry.SectorSize, root);
        v.ReadDirectory(v.Root, "", root, 0);
        return v;
    }

    /// <summary>Copies a file's bytes (its size, from its chain) to <paramref name="destination"/>.</summary>
    public void CopyFile(FolderNode file, Stream destination)
    {
        byte[] buffer = new byte[ClusterSize];
        long left = file.Size;
        foreach (uint cluster in file.Chain)
        {
            if (left <= 0)
            {
                break;
            }

            int n = (int)Math.Min(ClusterSize, left);
            _disk.Read(ClusterOffset(cluster), buffer.AsSpan(0, n));
            destination.Write(buffer, 0, n);
            left -= n;
        }
    }

    private void ReadDirectory(FolderNode dir, string path, byte[] entries, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"directories are nested deeper than {MaxDepth} levels at '{path}'");
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var longName = new LongNameCollector();
        for (int at = 0; at + FatEntry.Size <= entries.Length; at += FatEntry.Size)
        {
            var e = entries.AsSpan(at, FatEntry.Size);
            if (e[0] == 0)
            {
                break; // no entries follow (FAT spec 6.1, DIR_Name[0] = 0)
            }

            if (e[0] == FatEntry.Free)
            {
                longName.Reset();
                continue;
            }

            if ((e[11] & 0x3F) == FatEntry.LongName)
            {
                longName.Add(e);
                continue;
            }

            string? lfn = longName.Take(FatNames.Checksum(e));
            if ((e[11] & FatEntry.VolumeId) != 0 || (e[0] == '.' && depth > 0 && (e[1] == ' ' || (e[1] == '.' && e[2] == ' '))))
            {
                continue; // the label; "." and ".." of a subdirectory
            }

            string name = lfn ?? FatNames.FromShortName(e, e[12]);
            string child = path.Length == 0 ? name : $"{path}/{name}";
            string? why = FatNames.WhyNotLongName(name) ?? (name is "." or ".." || (depth == 0 && FolderCommit.IsReservedName(name)) ? "is reserved" : null);
            if (why != null)
            {
                throw new InvalidDataException($"the entry '{child}' cannot be a host name: it {why}");
            }

            if (!names.Add(name))
            {
                throw new InvalidDataException($"two entries are named '{child}' (FAT names ignore case)");
            }

            bool isDirectory = (e[11] & FatEntry.Directory) != 0;
            var node = new FolderNode(name, isDirectory) { Size = isDirectory ? 0 : FatEntry.FileSize(e), ModifiedUtc = FatEntry.Modified(e) };
            node.Chain = Chain(FatEntry.FirstCluster(e, fat32: false), child);
            if (!isDirectory && (long)node.Chain.Length * ClusterSize < node.Size)
            {
                throw new InvalidDataException($"'{child}' is {node.Size} bytes but its cluster chain holds only {(long)node.Chain.Length * ClusterSize}");
            }

            dir.Children.Add(node);
            if (isDirectory)
            {
                if (node.Chain.Length == 0)
                {
                    throw new InvalidDataException($"directory '{child}' has no cluster");
                }

                if ((long)node.Chain.Length * ClusterSize > FatImageBuilder.MaxDirectoryEntries * FatEntry.Size)
                {
                    throw new InvalidDataException($"directory '{child}' is larger than the {FatImageBuilder.MaxDirectoryEntries} entries a FAT directory can hold");
                }

                byte[] content = new byte[(long)node.Chain.Length * ClusterSize];
                for (int i = 0; i < node.Chain.Length; i++)
                {
                    ReadAt(_disk, ClusterOffset(node.Chain[i]), content.AsSpan(i * ClusterSize, ClusterSize));
                }

                ReadDirectory(node, child, content, depth + 1);
            }
        }
    }

    /// <summary>The chain from <paramref name="first"/> (0: none), claiming each cluster for <paramref name="owner"/>.</summary>
    private uint[] Chain(uint first, string owner)
    {
        var chain = new List<uint>();
        uint cluster = first;
        while (cluster != 0)
        {
            if (cluster < 2 || cluster > LastCluster)
            {
                throw new InvalidDataException($"the cluster chain of '{owner}' leaves the volume (cluster {cluster})");
            }

            if (_owner[cluster] is { } other)
            {
                throw new InvalidDataException(other == owner
                    ? $"the cluster chain of '{owner}' loops (cluster {cluster})"
                    : $"'{owner}' and '{other}' are cross-linked (both use cluster {cluster})");
            }

            _owner[cluster] = owner;
            chain.Add(cluster);
            ushort next = _fat[cluster];
            if (next >= 0xFFF8)
            {
                break;
            }

            if (next == 0 || next == 0xFFF7 || next == 1)
            {
                throw new InvalidDataException($"the cluster chain of '{owner}' runs into a {(next == 0xFFF7 ? "bad" : "free")} cluster after cluster {cluster}");
            }

            cluster = next;
        }

        return [.. chain];
    }

    private static void ReadAt(IBlockBackend disk, long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > disk.Length - destination.Length)
        {
            throw new InvalidDataException($"the file system reaches past the end of the disk (byte {offset})");
        }

        disk.Read(offset, destination);
    }

    /// <summary>Assembles one long name from its entries (last part first, ordinals counting down to 1), or gives up on a broken sequence.</summary>
    private sealed class LongNameCollector
    {
        private readonly char[] _name = new char[20 * FatNames.CharsPerLongEntry];
        private int _expected; // the ordinal the next entry must carry; 0: no sequence
        private int _count;
        private byte _checksum;

        public void Reset() => _count = _expected = 0;

        public void Add(ReadOnlySpan<byte> e)
        {
            int ordinal = e[0] & 0x1F;
            if ((e[0] & 0x40) != 0)
            {
                _count = ordinal;
                _expected = ordinal;
                _checksum = e[13];
            }

            if (ordinal == 0 || ordinal != _expected || e[13] != _checksum || ordinal > 20)
            {
                Reset();
                return;
            }

            FatNames.ReadLongNamePart(e, _name.AsSpan((ordinal - 1) * FatNames.CharsPerLongEntry, FatNames.CharsPerLongEntry));
            _expected--;
        }

        /// <summary>The name, when a whole sequence ends just before this short entry and carries its checksum.</summary>
        public string? Take(byte checksum)
        {
            bool complete = _count > 0 && _expected == 0 && checksum == _checksum;
            int length = _count * FatNames.CharsPerLongEntry;
            _count = 0;
            _expected = 0;
            if (!complete)
            {
                return null;
            }

            int end = Array.IndexOf(_name, '\0', 0, length);
            return new string(_name, 0, end < 0 ? length : end);
        }
    }
}
