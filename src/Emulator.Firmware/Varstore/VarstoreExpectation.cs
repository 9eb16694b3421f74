using System.Buffers.Binary;
using static Emulator.Firmware.Varstore.VarstoreLayout;

namespace Emulator.Firmware.Varstore;

/// <summary>
/// Where and how large a varstore an OVMF code image expects. OVMF never discovers its varstore:
/// QemuFlashFvbServicesRuntimeDxe (UI name FvbServicesRuntimeDxe) uses the build-time
/// PcdOvmfFlashNvStorageVariableBase, and carries the FV header it expects there as a template
/// (FvbInfo.c mPlatformFvbMediaInfo: gEfiSystemNvDataFvGuid, FvLength = the VARS size, block
/// map). The code FD sits directly above the VARS FD in the build (OvmfPkgDefines.fdf.inc:
/// CODE_BASE_ADDRESS = FW_BASE_ADDRESS + VARS_SIZE) and QEMU maps the code at 4 GiB − its size,
/// so the expected base is 4 GiB − code size − template FvLength. The base constant is also
/// looked for in the driver's code as a cross-check (<see cref="BaseConfirmed"/>). In an SMM build
/// (<see cref="Smm"/>) the driver is FvbServicesSmm, with the same template.
/// </summary>
public sealed record VarstoreExpectation(
    long CodeLength,
    long VarsSize,
    IReadOnlyList<FvBlockMapEntry> BlockMap,
    int? StoreSize,
    string Source,
    bool BaseConfirmed,
    bool Smm = false)
{
    public const string FvbDriverName = "FvbServicesRuntimeDxe";

    private const ulong FourGiB = 1UL << 32;

    public ulong CodeBase => FourGiB - (ulong)CodeLength;

    public ulong Base => CodeBase - (ulong)VarsSize;

    /// <summary>Reads the expectation from a parsed code image; null when it carries no varstore template (not an OVMF build).</summary>
    public static VarstoreExpectation? FromCode(FirmwareImage code)
    {
        ArgumentNullException.ThrowIfNull(code);
        // The FVB driver first, the rest in image order (a stable partition; not LINQ's OrderBy,
        // whose sort over a bool key is JIT-compiled framework code on every boot's path).
        var modules = new List<FirmwareModule>(code.Modules.Count);
        modules.AddRange(code.Modules.Where(m => m.Name == FvbDriverName));
        modules.AddRange(code.Modules.Where(m => m.Name != FvbDriverName));
        foreach (FirmwareModule module in modules)
        {
            ReadOnlySpan<byte> data = module.ImageSection.Data.Span;
            int at = FindTemplate(data, requireStoreHeader: false);
            if (at < 0)
            {
                continue;
            }

            long length = (long)BinaryPrimitives.ReadUInt64LittleEndian(data[(at + FvLength)..]);
            var blockMap = ReadBlockMap(data[at..]);
            ulong expectedBase = FourGiB - (ulong)code.Length - (ulong)length;
            bool confirmed = ContainsDword(data, (uint)expectedBase);
            return new VarstoreExpectation(code.Length, length, blockMap, FindStoreSize(code, length), module.Name ?? module.FileGuid.ToString(), confirmed, IsSmmBuild(code));
        }

        return null;
    }

    /// <summary>
    /// An SMM_REQUIRE build (Debian's *.secboot.fd): it carries SMM modules (PiSmmCore, VariableSmm,
    /// FvbServicesSmm: FFS types MM_CORE and MM), its variable driver runs in SMRAM and writes the
    /// flash only from SMM, and it has no variable store in RAM to fall back on when the flash is
    /// missing (OvmfPkg/PlatformPei/Platform.c InitializePlatform reserves the emulated store only
    /// without PcdSmmSmramRequire).
    /// </summary>
    private static bool IsSmmBuild(FirmwareImage code) =>
        code.Modules.Any(m => m.Type is FfsFileType.Mm or FfsFileType.MmCore or FfsFileType.CombinedMmDxe);

    /// <summary>An FV header template: zero vector, gEfiSystemNvDataFvGuid, "_FVH", HeaderLength 0x48, revision 2.</summary>
    private static int FindTemplate(ReadOnlySpan<byte> data, bool requireStoreHeader)
    {
        Span<byte> guid = stackalloc byte[16];
        FirmwareGuids.SystemNvDataFv.TryWriteBytes(guid);
        int from = 0;
        while (true)
        {
            int hit = data[from..].IndexOf(guid);
            if (hit < 0)
            {
                return -1;
            }

            int at = from + hit - FvFileSystemGuid;
            from += hit + 1;
            if (at < 0 || at + FvMinimumHeader + StoreHeaderSize > data.Length
                || data.Slice(at, 16).IndexOfAnyExcept((byte)0) >= 0
                || BinaryPrimitives.ReadUInt32LittleEndian(data[(at + FvSignature)..]) != FvhSignature
                || BinaryPrimitives.ReadUInt16LittleEndian(data[(at + FvHeaderLength)..]) != FvMinimumHeader
                || data[at + FvRevision] != 2)
            {
                continue;
            }

            if (requireStoreHeader && new Guid(data.Slice(at + FvMinimumHeader, 16)) is var g
                && g != VariableGuids.AuthenticatedVariableStore && g != VariableGuids.VariableStore)
            {
                continue;
            }

            return at;
        }
    }

    /// <summary>The variable store Size from a template that also carries the store header (EmuVariableFvbRuntimeDxe's), if the build has one.</summary>
    private static int? FindStoreSize(FirmwareImage code, long varsSize)
    {
        foreach (FirmwareModule module in code.Modules)
        {
            ReadOnlySpan<byte> data = module.ImageSection.Data.Span;
            int at = FindTemplate(data, requireStoreHeader: true);
            if (at >= 0 && (long)BinaryPrimitives.ReadUInt64LittleEndian(data[(at + FvLength)..]) == varsSize)
            {
                return (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(at + FvMinimumHeader + VarstoreLayout.StoreSize)..]);
            }
        }

        return null;
    }

    private static List<FvBlockMapEntry> ReadBlockMap(ReadOnlySpan<byte> header)
    {
        var entries = new List<FvBlockMapEntry>();
        for (int at = FvBlockMap; at + 8 <= FvMinimumHeader; at += 8)
        {
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(header[at..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(header[(at + 4)..]);
            if (count == 0 && length == 0)
            {
                break;
            }

            entries.Add(new FvBlockMapEntry(count, length));
        }

        return entries;
    }

    private static bool ContainsDword(ReadOnlySpan<byte> data, uint value)
    {
        Span<byte> pattern = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(pattern, value);
        return data.IndexOf(pattern) >= 0;
    }
}
