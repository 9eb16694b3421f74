using System.Buffers.Binary;
using System.Text;

namespace Emulator.Storage.Fat;

/// <summary>A run of clusters and what fills it: a directory's bytes, built in memory, or a host file's, read when the guest reads them.</summary>
internal sealed record FatExtent(uint FirstCluster, uint Clusters, byte[]? Directory, string? HostPath);

/// <summary>The synthesized disk: its first sectors (MBR to root directory) in memory, the data clusters as extents.</summary>
internal sealed record FatImage(byte[] Head, FatExtent[] Extents, FolderNode Root);

/// <summary>
/// Lays a <see cref="FolderNode"/> tree out as QEMU 7.2's vvfat does (block/vvfat.c
/// init_directories, read_directory): the volume label first in the root, then per entry a VFAT
/// long-name chain and the vvfat short name (<see cref="FatNames"/>); "." and ".." in each
/// subdirectory with its own times; files and directories contiguous, in breadth-first order
/// from cluster 2; empty files get no cluster; both FATs equal, FAT[0] = 0xFFF8, FAT[1] = 0xFFFF.
/// Refuses, as QEMU does, a root of more than 512 entries (long-name entries included: "Too many
/// entries in root directory") and data past vvfat's cluster count ("Directory does not fit in
/// FAT16"); a directory of more than 65,536 entries, which FAT cannot hold (FAT spec 6).
/// </summary>
internal static class FatImageBuilder
{
    public const int MaxDirectoryEntries = 65536;
    private const ushort EndOfChain = 0xFFFF;

    public static FatImage Build(string folder, FolderNode root)
    {
        var layout = Allocate(folder, root);
        byte[] head = new byte[VvfatGeometry.FirstDataSector * VvfatGeometry.SectorSize];
        VvfatGeometry.WriteMbr(head);
        VvfatGeometry.WriteBootSector(head.AsSpan(VvfatGeometry.PartitionStart * VvfatGeometry.SectorSize));

        var extents = new List<FatExtent>();
        var fat = new ushort[VvfatGeometry.SectorsPerFat * VvfatGeometry.SectorSize / 2];
        fat[0] = 0xFF00 | VvfatGeometry.MediaDescriptor;
        fat[1] = EndOfChain;
        foreach (var (node, path, parent) in layout)
        {
            if (node.Chain.Length == 0 && node != root)
            {
                continue; // an empty file
            }

            for (int i = 0; i < node.Chain.Length; i++)
            {
                fat[node.Chain[i]] = i + 1 < node.Chain.Length ? (ushort)node.Chain[i + 1] : EndOfChain;
            }

            if (!node.IsDirectory)
            {
                extents.Add(new FatExtent(node.Chain[0], (uint)node.Chain.Length, null, path));
                continue;
            }

            byte[] entries = EncodeDirectory(node, parent);
            if (node == root)
            {
                entries.CopyTo(head, VvfatGeometry.RootDirectorySector * VvfatGeometry.SectorSize);
            }
            else
            {
                extents.Add(new FatExtent(node.Chain[0], (uint)node.Chain.Length, entries, null));
            }
        }

        for (int copy = 0; copy < VvfatGeometry.FatCount; copy++)
        {
            var table = head.AsSpan((VvfatGeometry.FirstFatSector + copy * VvfatGeometry.SectorsPerFat) * VvfatGeometry.SectorSize);
            for (int i = 0; i < fat.Length; i++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(table[(2 * i)..], fat[i]);
            }
        }

        return new FatImage(head, [.. extents.OrderBy(e => e.FirstCluster)], root);
    }

    /// <summary>Clusters for every node, breadth-first as vvfat's mapping array is processed; returns the nodes in that order with their host paths and parents.</summary>
    private static List<(FolderNode Node, string Path, FolderNode? Parent)> Allocate(string folder, FolderNode root)
    {
        int rootEntries = 1 + root.Children.Sum(EntriesFor);
        if (rootEntries > VvfatGeometry.RootEntries)
        {
            throw new StorageException(
                $"folder '{folder}' has too many entries for a FAT16 root directory ({rootEntries} of {VvfatGeometry.RootEntries} directory entries, long-name entries included; QEMU: \"Too many entries in root directory\"): move some into a subfolder");
        }

        var order = new List<(FolderNode, string, FolderNode?)> { (root, folder, null) };
        uint next = 2;
        for (int i = 0; i < order.Count; i++)
        {
            var (node, path, _) = order[i];
            if (node != root)
            {
                long bytes = node.IsDirectory ? (2L + node.Children.Sum(EntriesFor)) * FatEntry.Size : node.Size;
                if (node.IsDirectory && bytes / FatEntry.Size > MaxDirectoryEntries)
                {
                    throw new StorageException($"folder '{folder}': directory '{Path.GetRelativePath(folder, path)}' has more entries than a FAT directory can hold ({MaxDirectoryEntries}, long-name entries included)");
                }

                long clusters = (bytes + VvfatGeometry.ClusterSize - 1) / VvfatGeometry.ClusterSize;
                if (next + clusters > VvfatGeometry.QemuClusterLimit)
                {
                    throw new StorageException(
                        $"folder '{folder}' holds more than the {VvfatGeometry.QemuCapacityMb:F2} MB a FAT16 disk as QEMU's vvfat builds it can hold (QEMU: \"Directory does not fit in FAT16\")");
                }

                node.Chain = [.. Enumerable.Range((int)next, (int)clusters).Select(c => (uint)c)];
                next += (uint)clusters;
            }

            if (node.IsDirectory)
            {
                order.AddRange(node.Children.Select(c => (c, Path.Combine(path, c.Name), (FolderNode?)node)));
            }
        }

        return order;
    }

    /// <summary>Directory entries one child takes: its long-name entries and its short entry.</summary>
    private static int EntriesFor(FolderNode child) => (child.Name.Length + FatNames.CharsPerLongEntry - 1) / FatNames.CharsPerLongEntry + 1;

    private static byte[] EncodeDirectory(FolderNode dir, FolderNode? parent)
    {
        bool isRoot = parent == null;
        byte[] bytes = new byte[isRoot ? VvfatGeometry.RootEntries * FatEntry.Size : dir.Chain.Length * VvfatGeometry.ClusterSize];
        var taken = new HashSet<string>(StringComparer.Ordinal);
        int at = 0;
        void Add(ReadOnlySpan<byte> name11, byte attributes, uint cluster, uint size, DateTime modified, DateTime accessed)
        {
            FatEntry.Write(bytes.AsSpan(at), name11, attributes, cluster, size, modified, accessed);
            taken.Add(Encoding.Latin1.GetString(name11));
            at += FatEntry.Size;
        }

        if (isRoot)
        {
            // The label entry carries no times (vvfat fills only its name and attribute 0x28).
            byte[] label = Encoding.ASCII.GetBytes(VvfatGeometry.VolumeLabel);
            label.CopyTo(bytes, 0);
            bytes[11] = FatEntry.Archive | FatEntry.VolumeId;
            taken.Add(VvfatGeometry.VolumeLabel);
            at = FatEntry.Size;
        }
        else
        {
            Add(".          "u8, FatEntry.Directory, dir.Chain[0], 0, dir.ModifiedUtc, dir.AccessedUtc);
            uint parentCluster = parent!.Chain.Length == 0 ? 0 : parent.Chain[0];
            Add("..         "u8, FatEntry.Directory, parentCluster, 0, dir.ModifiedUtc, dir.AccessedUtc);
        }

        foreach (var child in dir.Children)
        {
            byte[] shortName = FatNames.ShortName(child.Name, taken);
            byte[] lfn = FatNames.LongNameEntries(child.Name, FatNames.Checksum(shortName));
            lfn.CopyTo(bytes, at);
            at += lfn.Length;
            uint first = child.Chain.Length == 0 ? 0 : child.Chain[0];
            Add(shortName, child.IsDirectory ? FatEntry.Directory : FatEntry.Archive, first, child.IsDirectory ? 0 : (uint)child.Size, child.ModifiedUtc, child.AccessedUtc);
        }

        return bytes;
    }
}
