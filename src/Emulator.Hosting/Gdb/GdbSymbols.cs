using System.Buffers.Binary;

namespace Emulator.Hosting.Gdb;

/// <summary>
/// An edk2 build's output folder (<c>--symbols DIR</c>): module names to the files gdb loads their
/// symbols from, and the address gdb must be told for each so the symbols land where the image
/// runs.
///
/// A GCC build leaves one ELF <c>NAME.debug</c> per module (NAME is the INF's BASE_NAME, which is
/// also the module's USER_INTERFACE name in the firmware volume; a build with two modules of one
/// name calls them NAME_FILEGUID, e.g. CpuMpPei_280251c4-1d09-4035-9062-839acb5f18c1.debug). GenFw makes the PE/TE image from that ELF keeping its addresses as
/// RVAs (<c>.text</c> at 0x240 in DxeCore.debug and DxeCore.efi alike), so the symbols are the
/// ELF's addresses plus the image's base. gdb places a library by segments (gdb's "Library List
/// Format": a segment address is where the file's first loadable segment goes, and the others
/// keep their distance to it), so the address it is told is image base + the first PT_LOAD's
/// p_vaddr. A CLANGPDB or Visual Studio build leaves <c>NAME.pdb</c> next to the PE
/// <c>NAME.dll</c>: the library is then the .dll (gdb reads no PDB, but LLDB finds the PDB through
/// the .dll's debug directory), placed by its lowest section, as gdb places a PE file.
///
/// The folder is indexed once, on the first lookup; a file that is not the ELF or PE it claims to
/// be gives its module no symbols (never an error: the boot goes on).
/// </summary>
public sealed class GdbSymbols
{
    /// <summary>How many files the index looks at before it stops: a build folder holds tens of thousands; a wrong DIR (/) must not scan a disk.</summary>
    public const int MaxFilesScanned = 2_000_000;

    private readonly string _directory;
    private readonly Dictionary<string, (string Path, ulong FirstSegment)?> _resolved = new(StringComparer.OrdinalIgnoreCase);
    private Dictionary<string, string>? _byStem;

    /// <summary>Symbols from <paramref name="directory"/>; a directory that does not exist is a usage error.</summary>
    public GdbSymbols(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new UsageException($"--symbols {directory}: no such directory (an edk2 build's output folder, e.g. Build/OvmfX64/DEBUG_GCC5/X64)");
        }

        _directory = Path.GetFullPath(directory);
    }

    /// <summary>Symbol files found (.debug and .pdb), after the first lookup.</summary>
    public int FilesIndexed => Index().Count;

    /// <summary>
    /// The file gdb loads for module <paramref name="name"/> (file GUID <paramref name="fileGuid"/>)
    /// and the address of its first segment for an image whose RVA 0 is at
    /// <paramref name="imageStart"/>; null when the build holds no usable symbols for it.
    /// </summary>
    public (string Path, ulong SegmentAddress)? Find(string? name, Guid fileGuid, ulong imageStart)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        string key = name + "/" + fileGuid.ToString("D");
        if (!_resolved.TryGetValue(key, out var found))
        {
            _resolved[key] = found = Resolve(name, fileGuid);
        }

        return found is { } f ? (f.Path, unchecked(imageStart + f.FirstSegment)) : null;
    }

    private (string Path, ulong FirstSegment)? Resolve(string name, Guid fileGuid)
    {
        var index = Index();
        // A build with two modules of one BASE_NAME names their files NAME_FILEGUID (edk2's MODULE_NAME_GUID).
        foreach (string stem in (string[])[name + "_" + fileGuid.ToString("D"), name])
        {
            if (index.TryGetValue(stem + ".debug", out string? elf) && FirstLoadAddress(elf) is { } vaddr)
            {
                return (elf, vaddr);
            }

            if (index.TryGetValue(stem + ".pdb", out string? pdb)
                && Path.ChangeExtension(pdb, ".dll") is var dll && File.Exists(dll) && LowestSectionRva(dll) is { } rva)
            {
                return (dll, rva);
            }
        }

        return null;
    }

    /// <summary>
    /// File name (case-insensitive) to path, for every .debug and .pdb under the folder. Where a
    /// name occurs twice (the arch folder holds copies of the per-module DEBUG folders' files),
    /// the shallower path wins.
    /// </summary>
    private Dictionary<string, string> Index()
    {
        if (_byStem != null)
        {
            return _byStem;
        }

        _byStem = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        int scanned = 0;
        foreach (string path in Directory.EnumerateFiles(_directory, "*", options))
        {
            if (++scanned > MaxFilesScanned)
            {
                break;
            }

            string file = Path.GetFileName(path);
            if (!file.EndsWith(".debug", StringComparison.OrdinalIgnoreCase) && !file.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!_byStem.TryGetValue(file, out string? known) || Depth(path) < Depth(known))
            {
                _byStem[file] = path;
            }
        }

        return _byStem;
    }

    private static int Depth(string path) => path.Count(c => c == Path.DirectorySeparatorChar);

    /// <summary>The lowest p_vaddr of the ELF file's PT_LOAD program headers (ELF32 or ELF64, little-endian), or null.</summary>
    public static ulong? FirstLoadAddress(string path)
    {
        byte[] head = ReadHead(path, 64);
        if (head.Length < 52 || head[0] != 0x7F || head[1] != 'E' || head[2] != 'L' || head[3] != 'F' || head[5] != 1)
        {
            return null;
        }

        bool is64 = head[4] == 2;
        if (!is64 && head[4] != 1 || is64 && head.Length < 64)
        {
            return null;
        }

        ulong phoff = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(head.AsSpan(32)) : BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(28));
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(is64 ? 54 : 42));
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(is64 ? 56 : 44));
        if (phentsize < (is64 ? 56 : 32) || phnum == 0 || phoff > int.MaxValue || phentsize * phnum > 1 << 20)
        {
            return null;
        }

        byte[] table = ReadAt(path, (long)phoff, phentsize * phnum);
        if (table.Length < phentsize * phnum)
        {
            return null;
        }

        ulong? lowest = null;
        for (int i = 0; i < phnum; i++)
        {
            var entry = table.AsSpan(i * phentsize, phentsize);
            const uint PtLoad = 1;
            if (BinaryPrimitives.ReadUInt32LittleEndian(entry) != PtLoad)
            {
                continue;
            }

            ulong vaddr = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]) : BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
            lowest = lowest is { } l ? Math.Min(l, vaddr) : vaddr;
        }

        return lowest;
    }

    /// <summary>The lowest VirtualAddress (RVA) among the PE file's sections, or null when it is no PE image.</summary>
    public static ulong? LowestSectionRva(string path)
    {
        byte[] head = ReadHead(path, 4096);
        if (head.Length < 0x40 || head[0] != 'M' || head[1] != 'Z')
        {
            return null;
        }

        int pe = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(0x3C));
        if (pe < 0x40 || pe + 24 > head.Length || !head.AsSpan(pe, 4).SequenceEqual("PE\0\0"u8))
        {
            return null;
        }

        int sections = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(pe + 6));
        int optional = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(pe + 20));
        int table = pe + 24 + optional;
        ulong? lowest = null;
        for (int i = 0; i < sections && table + (i + 1) * 40 <= head.Length; i++)
        {
            uint rva = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(table + i * 40 + 12));
            lowest = lowest is { } l ? Math.Min(l, rva) : rva;
        }

        return lowest;
    }

    private static byte[] ReadHead(string path, int length) => ReadAt(path, 0, length);

    private static byte[] ReadAt(string path, long offset, int length)
    {
        try
        {
            using var file = File.OpenRead(path);
            if (offset >= file.Length)
            {
                return [];
            }

            file.Position = offset;
            var bytes = new byte[(int)Math.Min(length, file.Length - offset)];
            file.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
