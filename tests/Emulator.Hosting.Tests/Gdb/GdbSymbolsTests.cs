using System.Buffers.Binary;
using Emulator.Hosting.Gdb;

namespace Emulator.Hosting.Tests.Gdb;

/// <summary>
/// <c>--symbols DIR</c> (<see cref="GdbSymbols"/>): module names to an edk2 build's .debug files,
/// placed by their first loadable segment, or to the .dll of a .pdb, placed by its lowest section;
/// files that are not what they claim, truncated program header tables and a folder that does not
/// exist. A real DEBUG build's symbols are loaded by a real gdb in Emulator.Boot.Tests'
/// GdbSymbolsBootTests.
/// </summary>
[Trait("Category", "Unit")]
public sealed class GdbSymbolsTests : IDisposable
{
    private static readonly Guid DxeCoreGuid = Guid.Parse("d6a2cb7f-6a18-4e2f-b43b-9920a733700a");
    private readonly string _dir = Directory.CreateTempSubdirectory("emu-symbols-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ADebugFile_IsPlacedByItsLowestLoadSegment_Elf64AndElf32()
    {
        Write("DxeCore.debug", Elf(is64: true, (1, 0x5000), (6, 0x10), (1, 0x240)));
        Write("PeiCore.debug", Elf(is64: false, (1, 0x1000), (1, 0x200)));
        var symbols = new GdbSymbols(_dir);

        Assert.Equal((Path.Combine(_dir, "DxeCore.debug"), 0x7E8A_0240UL), symbols.Find("DxeCore", DxeCoreGuid, 0x7E8A_0000));
        Assert.Equal((Path.Combine(_dir, "PeiCore.debug"), 0x82_0200UL), symbols.Find("peicore", Guid.Empty, 0x82_0000));
        Assert.Equal(2, symbols.FilesIndexed);
    }

    [Fact]
    public void TheShallowerCopyWins_AndANameWithItsFileGuidBeatsTheBareName()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "MdeModulePkg", "Core", "Dxe", "DxeMain", "DEBUG"));
        Write(Path.Combine("MdeModulePkg", "Core", "Dxe", "DxeMain", "DEBUG", "DxeCore.debug"), Elf(is64: true, (1, 0x1000)));
        Write("DxeCore.debug", Elf(is64: true, (1, 0x240)));
        Write("Tcg2Dxe.debug", Elf(is64: true, (1, 0x240)));
        Write("Tcg2Dxe_" + DxeCoreGuid.ToString("D").ToUpperInvariant() + ".debug", Elf(is64: true, (1, 0x300)));
        var symbols = new GdbSymbols(_dir);

        Assert.Equal(0x1240UL, symbols.Find("DxeCore", DxeCoreGuid, 0x1000)?.SegmentAddress);
        Assert.EndsWith(DxeCoreGuid.ToString("D").ToUpperInvariant() + ".debug", symbols.Find("Tcg2Dxe", DxeCoreGuid, 0)?.Path);
        Assert.EndsWith("Tcg2Dxe.debug", symbols.Find("Tcg2Dxe", Guid.Empty, 0)?.Path);
    }

    [Fact]
    public void APdb_GivesGdbTheDllNextToIt_PlacedByItsLowestSection()
    {
        Write("Shell.pdb", [0x4D, 0x69, 0x63]);
        Write("Shell.dll", Pe(0x2000, 0x1000, 0x8000));
        Write("Orphan.pdb", [0x4D, 0x69, 0x63]);
        var symbols = new GdbSymbols(_dir);

        Assert.Equal((Path.Combine(_dir, "Shell.dll"), 0x1_1000UL), symbols.Find("Shell", Guid.Empty, 0x1_0000));
        Assert.Null(symbols.Find("Orphan", Guid.Empty, 0x1_0000));
    }

    [Fact]
    public void FilesThatAreNotWhatTheyClaim_GiveNoSymbols()
    {
        Write("Garbage.debug", "not an ELF file at all, just text"u8.ToArray());
        Write("Empty.debug", []);
        var truncated = Elf(is64: true, (1, 0x240), (1, 0x5000));
        Write("Truncated.debug", truncated[..(truncated.Length - 10)]);
        var huge = Elf(is64: true, (1, 0x240));
        BinaryPrimitives.WriteUInt16LittleEndian(huge.AsSpan(56), 0xFFFF); // 65535 program headers of 56 bytes
        Write("Huge.debug", huge);
        var bigEndian = Elf(is64: true, (1, 0x240));
        bigEndian[5] = 2;
        Write("BigEndian.debug", bigEndian);
        Write("NoLoad.debug", Elf(is64: true, (6, 0x40)));
        Write("BadPe.pdb", []);
        Write("BadPe.dll", "MZ but nothing after it"u8.ToArray());
        var symbols = new GdbSymbols(_dir);

        foreach (string name in (string[])["Garbage", "Empty", "Truncated", "Huge", "BigEndian", "NoLoad", "BadPe", "Missing", string.Empty])
        {
            Assert.Null(symbols.Find(name, Guid.Empty, 0x1000));
        }

        Assert.Null(symbols.Find(null, Guid.Empty, 0x1000));
    }

    [Fact]
    public void AFolderThatDoesNotExist_IsAUsageError()
    {
        var e = Assert.Throws<UsageException>(() => new GdbSymbols(Path.Combine(_dir, "no-such-build")));
        Assert.StartsWith("--symbols ", e.Message);
        Assert.Contains("no such directory", e.Message);
    }

    [Fact]
    public void TheLibraryList_NamesEachFileAtItsSegmentAddress()
    {
        string xml = GdbLibrary.ListXml([new GdbLibrary("/b/X64/DxeCore.debug", 0x7E8A0240), new GdbLibrary("A&B", 0x1000)]);
        Assert.Contains("<library name=\"/b/X64/DxeCore.debug\"><segment address=\"0x7e8a0240\"/></library>", xml);
        Assert.Contains("name=\"A&amp;B\"", xml);
    }

    private void Write(string relative, byte[] bytes) => File.WriteAllBytes(Path.Combine(_dir, relative), bytes);

    /// <summary>An ELF header and its program header table (type, p_vaddr per entry), little-endian.</summary>
    private static byte[] Elf(bool is64, params (uint Type, ulong Vaddr)[] headers)
    {
        int ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32;
        var bytes = new byte[ehsize + headers.Length * phentsize];
        bytes[0] = 0x7F;
        "ELF"u8.CopyTo(bytes.AsSpan(1));
        bytes[4] = (byte)(is64 ? 2 : 1);
        bytes[5] = 1;
        if (is64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(32), (ulong)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(54), (ushort)phentsize);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(56), (ushort)headers.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(28), (uint)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(42), (ushort)phentsize);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(44), (ushort)headers.Length);
        }

        for (int i = 0; i < headers.Length; i++)
        {
            var entry = bytes.AsSpan(ehsize + i * phentsize);
            BinaryPrimitives.WriteUInt32LittleEndian(entry, headers[i].Type);
            if (is64)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(entry[16..], headers[i].Vaddr);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], (uint)headers[i].Vaddr);
            }
        }

        return bytes;
    }

    /// <summary>A PE file's headers with sections at the given RVAs (no optional header fields read).</summary>
    private static byte[] Pe(params uint[] sectionRvas)
    {
        const int pe = 0x80, optional = 0xF0;
        var bytes = new byte[pe + 24 + optional + sectionRvas.Length * 40];
        bytes[0] = (byte)'M';
        bytes[1] = (byte)'Z';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(0x3C), pe);
        "PE\0\0"u8.CopyTo(bytes.AsSpan(pe));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(pe + 6), (ushort)sectionRvas.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(pe + 20), optional);
        for (int i = 0; i < sectionRvas.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(pe + 24 + optional + i * 40 + 12), sectionRvas[i]);
        }

        return bytes;
    }
}
