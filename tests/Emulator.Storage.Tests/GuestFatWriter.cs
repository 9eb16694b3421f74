using System.Buffers.Binary;
using System.Text;
using Emulator.Core.Storage;
using Emulator.Storage.Fat;

namespace Emulator.Storage.Tests;

/// <summary>
/// Changes a vvfat-shaped FAT16 disk the way a guest's FAT driver does, through the disk's
/// Write calls only: allocates from the first free cluster, writes long-name chains with an
/// upper-case short alias of its own (FILE~N, not vvfat's algorithm), updates both FATs, frees
/// chains on delete and marks the entries 0xE5. Just enough of a FAT driver to play the guest in
/// commit tests; mtools plays an independent one in <see cref="MtoolsTests"/>.
/// </summary>
internal sealed class GuestFatWriter(IBlockBackend disk)
{
    private const int Cs = VvfatGeometry.ClusterSize;
    private int _aliases;

    public void WriteFile(string path, byte[] content)
    {
        var (dir, name) = Split(path);
        var slot = Find(dir, name);
        if (slot is { } existing)
        {
            FreeChain(existing.First);
        }

        uint first = Allocate(content);
        if (slot is { } s)
        {
            byte[] entry = ReadEntry(s.ShortAt);
            BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(26), (ushort)first);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(28), (uint)content.Length);
            Stamp(entry);
            disk.Write(s.ShortAt, entry);
        }
        else
        {
            AddEntry(dir, name, FatEntry.Archive, first, (uint)content.Length);
        }
    }

    public void MakeDirectory(string path)
    {
        var (dir, name) = Split(path);
        uint cluster = Allocate(new byte[Cs]);
        uint parent = dir.Length == 0 ? 0 : Find(Parent(dir), Leaf(dir))!.Value.First;
        byte[] dots = new byte[64];
        FatEntry.Write(dots, ".          "u8, FatEntry.Directory, cluster, 0, DateTime.UtcNow, DateTime.UtcNow);
        FatEntry.Write(dots.AsSpan(32), "..         "u8, FatEntry.Directory, parent, 0, DateTime.UtcNow, DateTime.UtcNow);
        disk.Write(VvfatGeometry.ClusterOffset(cluster), dots);
        AddEntry(dir, name, FatEntry.Directory, cluster, 0);
    }

    /// <summary>Deletes a file, or an empty directory's entry and chain.</summary>
    public void Delete(string path)
    {
        var (dir, name) = Split(path);
        var s = Find(dir, name) ?? throw new FileNotFoundException(path);
        FreeChain(s.First);
        for (long at = s.FirstAt; at <= s.ShortAt; at += 32)
        {
            disk.Write(at, [FatEntry.Free]);
        }
    }

    /// <summary>Writes raw bytes of a FAT entry (for tests that break the file system on purpose).</summary>
    public void SetFat(uint cluster, ushort value)
    {
        for (int copy = 0; copy < VvfatGeometry.FatCount; copy++)
        {
            byte[] v = new byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(v, value);
            disk.Write(FatOffset(copy) + 2L * cluster, v);
        }
    }

    public ushort GetFat(uint cluster)
    {
        byte[] v = new byte[2];
        disk.Read(FatOffset(0) + 2L * cluster, v);
        return BinaryPrimitives.ReadUInt16LittleEndian(v);
    }

    /// <summary>Adds a raw entry chain under a name the writer does not check (for escaping-name tests).</summary>
    public void AddEntry(string dir, string name, byte attributes, uint first, uint size)
    {
        byte[] alias = Encoding.ASCII.GetBytes($"FILE~{++_aliases}".PadRight(11));
        byte[] lfn = FatNames.LongNameEntries(name, FatNames.Checksum(alias));
        byte[] entry = new byte[32];
        FatEntry.Write(entry, alias, attributes, first, size, DateTime.UtcNow, DateTime.UtcNow);
        long at = FreeSlots(dir, lfn.Length / 32 + 1);
        disk.Write(at, lfn);
        disk.Write(at + lfn.Length, entry);
    }

    public uint FirstCluster(string path)
    {
        var (dir, name) = Split(path);
        return Find(dir, name)!.Value.First;
    }

    private static void Stamp(byte[] entry)
    {
        var (date, time) = FatEntry.ToFat(DateTime.UtcNow);
        BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(22), time);
        BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(24), date);
    }

    private static long FatOffset(int copy) => (long)(VvfatGeometry.FirstFatSector + copy * VvfatGeometry.SectorsPerFat) * VvfatGeometry.SectorSize;

    private uint Allocate(byte[] content)
    {
        int clusters = (content.Length + Cs - 1) / Cs;
        var chain = new List<uint>();
        for (uint c = 2; chain.Count < clusters; c++)
        {
            if (GetFat(c) == 0)
            {
                chain.Add(c);
            }
        }

        for (int i = 0; i < chain.Count; i++)
        {
            SetFat(chain[i], i + 1 < chain.Count ? (ushort)chain[i + 1] : (ushort)0xFFFF);
            byte[] data = new byte[Cs];
            content.AsSpan(i * Cs, Math.Min(Cs, content.Length - i * Cs)).CopyTo(data);
            disk.Write(VvfatGeometry.ClusterOffset(chain[i]), data);
        }

        return chain.Count == 0 ? 0 : chain[0];
    }

    private void FreeChain(uint first)
    {
        for (uint c = first; c >= 2 && c < 0xFFF8;)
        {
            uint next = GetFat(c);
            SetFat(c, 0);
            c = next;
        }
    }

    /// <summary>The byte offsets of a directory's entries (the fixed root region, or its cluster chain).</summary>
    private List<long> Slots(string dir)
    {
        var slots = new List<long>();
        if (dir.Length == 0)
        {
            long root = (long)VvfatGeometry.RootDirectorySector * VvfatGeometry.SectorSize;
            for (int i = 0; i < VvfatGeometry.RootEntries; i++)
            {
                slots.Add(root + 32L * i);
            }

            return slots;
        }

        for (uint c = Find(Parent(dir), Leaf(dir))!.Value.First; c >= 2 && c < 0xFFF8; c = GetFat(c))
        {
            for (int i = 0; i < Cs / 32; i++)
            {
                slots.Add(VvfatGeometry.ClusterOffset(c) + 32L * i);
            }
        }

        return slots;
    }

    private long FreeSlots(string dir, int count)
    {
        var slots = Slots(dir);
        for (int i = 0; i + count <= slots.Count; i++)
        {
            if (Enumerable.Range(i, count).All(k => ReadEntry(slots[k])[0] is 0 or FatEntry.Free)
                && Enumerable.Range(i, count).All(k => k == 0 || slots[k] == slots[k - 1] + 32))
            {
                return slots[i];
            }
        }

        throw new InvalidOperationException($"directory '{dir}' is full (the test writer does not grow directories)");
    }

    private (long FirstAt, long ShortAt, uint First)? Find(string dir, string name)
    {
        var lfn = new StringBuilder();
        long firstAt = -1;
        char[] part = new char[13];
        foreach (long at in Slots(dir))
        {
            byte[] e = ReadEntry(at);
            if (e[0] == 0)
            {
                break;
            }

            if (e[0] == FatEntry.Free)
            {
                lfn.Clear();
                firstAt = -1;
                continue;
            }

            if (e[11] == FatEntry.LongName)
            {
                if ((e[0] & 0x40) != 0)
                {
                    lfn.Clear();
                    firstAt = at;
                }

                FatNames.ReadLongNamePart(e, part);
                lfn.Insert(0, new string(part));
                continue;
            }

            string full = lfn.ToString();
            int nul = full.IndexOf('\0');
            string entryName = full.Length > 0 ? (nul >= 0 ? full[..nul] : full) : FatNames.FromShortName(e, e[12]);
            if (string.Equals(entryName, name, StringComparison.OrdinalIgnoreCase))
            {
                return (firstAt >= 0 ? firstAt : at, at, FatEntry.FirstCluster(e, fat32: false));
            }

            lfn.Clear();
            firstAt = -1;
        }

        return null;
    }

    private byte[] ReadEntry(long at)
    {
        byte[] e = new byte[32];
        disk.Read(at, e);
        return e;
    }

    private static (string Dir, string Name) Split(string path) => (Parent(path), Leaf(path));

    private static string Parent(string path) => path.Contains('/') ? path[..path.LastIndexOf('/')] : "";

    private static string Leaf(string path) => path[(path.LastIndexOf('/') + 1)..];
}
