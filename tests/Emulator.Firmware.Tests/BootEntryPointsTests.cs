using Xunit.Abstractions;

namespace Emulator.Firmware.Tests;

[Trait("Category", "Fixture")]
public class BootEntryPointsTests
{
    private readonly ITestOutputHelper _output;

    public BootEntryPointsTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Theory]
    [InlineData(FirmwareFixtures.Code, PeMachine.Amd64, PeMachine.Amd64)]
    [InlineData(FirmwareFixtures.Unified, PeMachine.Amd64, PeMachine.Amd64)]
    [InlineData(FirmwareFixtures.Code4M, PeMachine.I386, PeMachine.I386)]
    public void FindsSecAndPeiCore(string fixture, PeMachine secMachine, PeMachine peiMachine)
    {
        byte[] image = FirmwareFixtures.Load(fixture);

        BootEntryPoints entries = BootEntryPoints.Locate(image);

        _output.WriteLine($"{fixture}: mapped at 0x{entries.MappedBase:X8}, SEC entry 0x{entries.SecEntry:X8} ({entries.SecMachine}), " +
            $"PEI core entry 0x{entries.PeiCoreEntry:X8} ({entries.PeiCoreMachine}), DXE core {entries.DxeCore} ");
        foreach (string diagnostic in entries.Diagnostics)
        {
            _output.WriteLine($"  {diagnostic}");
        }

        Assert.Equal((1UL << 32) - (ulong)image.Length, entries.MappedBase);
        Assert.NotNull(entries.SecEntry);

        // SEC sits in SECFV (0x34000 bytes, 208 KiB, in both builds) below the reset vector page,
        // so its entry is more than 128 KiB below 4 GiB: 0xFFFD26A4 (2 MB), 0xFFFCEB84 (4 MB).
        Assert.InRange(entries.SecEntry.Value, (1UL << 32) - 0x34000, 0xFFFFF000UL - 1);
        Assert.Equal(secMachine, entries.SecMachine);
        Assert.Equal(secMachine == PeMachine.Amd64, entries.Is64BitSec);
        Assert.Equal("SecMain", entries.Sec!.Name);

        Assert.NotNull(entries.PeiCoreEntry);
        Assert.InRange(entries.PeiCoreEntry.Value, 0x800000UL, 0x1000000UL - 1);
        Assert.Equal(peiMachine, entries.PeiCoreMachine);
        Assert.Equal("PeiCore", entries.PeiCore!.Name);
        Assert.InRange(entries.PeiCoreEntry.Value, entries.PeiCore.ImageStart, entries.PeiCore.ImageEnd - 1);

        // OVMF's DXE core is X64 in every build and linked at 0; DXE IPL chooses where it runs.
        Assert.Equal(PeMachine.Amd64, entries.DxeCoreMachine);
        Assert.Equal("DxeCore", entries.DxeCore!.Name);
        Assert.Null(entries.DxeCoreEntry);
    }

    [Fact]
    public void SecIsExecutedWhereFlashMapsIt()
    {
        byte[] image = FirmwareFixtures.Load(FirmwareFixtures.Code);

        BootEntryPoints entries = BootEntryPoints.Locate(image);

        FirmwareModule sec = entries.Sec!;
        ulong mappedHeader = entries.MappedBase + (ulong)sec.ImageSection.ImageOffset!.Value + (ulong)sec.ImageSection.HeaderLength;
        Assert.Equal(mappedHeader, sec.Image.HeaderAddress);
        Assert.Equal(sec.EntryAddress, entries.SecEntry);
        Assert.DoesNotContain(entries.Diagnostics, d => d.Contains("SEC", StringComparison.Ordinal));
    }

    [Fact]
    public void UnifiedAndCodeOnlyImagesAgreeOnAddresses()
    {
        BootEntryPoints code = BootEntryPoints.Locate(FirmwareFixtures.Load(FirmwareFixtures.Code));
        BootEntryPoints unified = BootEntryPoints.Locate(FirmwareFixtures.Load(FirmwareFixtures.Unified));

        Assert.Equal(code.SecEntry, unified.SecEntry);
        Assert.Equal(code.PeiCoreEntry, unified.PeiCoreEntry);
    }

    [Fact]
    public void SecLinkedElsewhereIsRelocatedToItsMappedAddress()
    {
        // A SEC whose linked ImageBase disagrees with its flash location still executes where
        // flash puts it; PE32+ ImageBase is at offset 24 of the optional header.
        byte[] image = FirmwareFixtures.Load(FirmwareFixtures.Code);
        BootEntryPoints original = BootEntryPoints.Locate(image);
        long optionalHeader = FindPeOptionalHeader(image, original.Sec!);
        const int imageBaseOffset = 24;
        ulong linkedBase = BitConverter.ToUInt64(image, (int)optionalHeader + imageBaseOffset);
        BitConverter.GetBytes(linkedBase + 0x1000).CopyTo(image, (int)optionalHeader + imageBaseOffset);

        BootEntryPoints relocated = BootEntryPoints.Locate(image);

        Assert.Equal(original.SecEntry, relocated.SecEntry);
        Assert.Equal(original.SecEntry + 0x1000, relocated.Sec!.EntryAddress);
        Assert.Contains(relocated.Diagnostics, d => d.StartsWith("SEC header is linked for", StringComparison.Ordinal));
    }

    [Fact]
    public void VarsOnlyImageHasNoBootVolumeContent()
    {
        BootEntryPoints entries = BootEntryPoints.Locate(FirmwareFixtures.Load(FirmwareFixtures.Vars));

        Assert.Null(entries.SecEntry);
        Assert.Null(entries.PeiCoreEntry);
        Assert.NotEmpty(entries.Diagnostics);
    }

    [Fact]
    public void NonFirmwareBytesAreRejected()
    {
        var ex = Assert.Throws<FirmwareFormatException>(() => BootEntryPoints.Locate(new byte[4096]));
        Assert.Contains("no firmware volume", ex.Message, StringComparison.Ordinal);
    }

    private static long FindPeOptionalHeader(byte[] image, FirmwareModule module)
    {
        long peStart = module.ImageSection.ImageOffset!.Value + module.ImageSection.HeaderLength;
        int lfanew = BitConverter.ToInt32(image, (int)peStart + 0x3C);
        return peStart + lfanew + 4 + 20;
    }
}
