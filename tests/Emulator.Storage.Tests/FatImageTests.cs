using System.Text;
using Emulator.Core.Storage;
using Emulator.Storage.Fat;

namespace Emulator.Storage.Tests;

/// <summary>The folder disk as presented: its shape against QEMU 7.2's vvfat, and the folder read back through emu's own FAT reader.</summary>
[Trait("Category", "Unit")]
public sealed class FatImageTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TheMbrAndBootSectorAreQemuVvfatsByteForByte()
    {
        _dir.Write("a", "hi\n");
        using var disk = HostFolderDisk.Open(_dir.Path, writable: false);
        byte[][] qemu = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-vvfat-boot-sectors.txt"))
            .Split("\n\n").Select(p => Convert.FromHexString(string.Concat(p.Split('\n').Where(l => !l.StartsWith('#')).Select(l => l.Trim())))).ToArray();
        byte[] mbr = new byte[512], boot = new byte[512];
        disk.Read(0, mbr);
        disk.Read(63 * 512, boot);
        Assert.Equal(Convert.ToHexString(qemu[0]), Convert.ToHexString(mbr));
        Assert.Equal(Convert.ToHexString(qemu[1]), Convert.ToHexString(boot));
        Assert.Equal(1_032_192L * 512, disk.Length);
    }

    /// <summary>Short names vvfat 7.2.22 gave these host names (qemu-img convert of a folder holding them, docs/storage.md).</summary>
    [Theory]
    [InlineData("startup.nsh", "STARTUP NSH")]
    [InlineData("MixedCase.Txt", "MIXEDC~1TXT")]
    [InlineData("a long file name with spaces.text", "ALONGF~1TEX")]
    [InlineData("UPPER.TXT", "UPPER   TXT")]
    [InlineData("lower.txt", "LOWER   TXT")]
    [InlineData("LONGEXTENSION.html", "LONGEX~1HTM")]
    [InlineData(".hidden", "HIDDEN~1   ")]
    [InlineData("a.b.c", "A~1     C  ")]
    [InlineData("exactly13char", "EXACTL~1   ")]
    [InlineData("x+y=z.dat", "XYZ~1   DAT")]
    [InlineData("ünïcödé.txt", "NCD~1   TXT")]
    [InlineData("has~tilde.c", "HAS~TI~1C  ")]
    public void ShortNamesAreVvfats(string name, string shortName)
    {
        Assert.Equal(shortName, Encoding.Latin1.GetString(FatNames.ShortName(name, new HashSet<string>())));
    }

    [Fact]
    public void ClashingShortNamesCountUp()
    {
        var taken = new HashSet<string>();
        string first = Encoding.Latin1.GetString(FatNames.ShortName("abcdefghij.txt", taken));
        taken.Add(first);
        Assert.Equal("ABCDEF~1TXT", first);
        Assert.Equal("ABCDEF~2TXT", Encoding.Latin1.GetString(FatNames.ShortName("abcdefghik.txt", taken)));
    }

    [Fact]
    public void TheFolderReadsBackThroughTheFatReader()
    {
        byte[] big = Enumerable.Range(0, 70000).Select(i => (byte)(i * 31)).ToArray();
        _dir.Write("startup.nsh", "echo BOOT SUCCESS\r\nreset -s\r\n");
        _dir.Write("MixedCase.Txt", "abc");
        _dir.Write("EFI/BOOT/BOOTX64.EFI", big);
        _dir.Write("empty.txt", "");
        _dir.Write("a name longer than thirteen characters, with ünïcödé.txt", "x");
        Directory.CreateDirectory(_dir["emptydir"]);

        using var disk = HostFolderDisk.Open(_dir.Path, writable: false);
        var volume = FatVolume.Read(disk);
        Assert.Equal(_dir.Snapshot(), Tree(volume));
        var boot = volume.Root.Child("EFI")!.Child("BOOT")!.Child("BOOTX64.EFI")!;
        Assert.Equal(9, boot.Chain.Length); // 70,000 bytes in 8 KiB clusters, contiguous
        Assert.Equal(Enumerable.Range((int)boot.Chain[0], 9).Select(c => (uint)c), boot.Chain);
        Assert.Equal(new DateTime(2024, 5, 6, 7, 8, 10, DateTimeKind.Utc), volume.Root.Child("startup.nsh")!.ModifiedUtc);
        Assert.Empty(volume.Root.Child("empty.txt")!.Chain);
    }

    [Fact]
    public void SymbolicLinksAreNotFollowedAndNamedInTheWarnings()
    {
        _dir.Write("real.txt", "r");
        File.CreateSymbolicLink(_dir["link.txt"], _dir["real.txt"]);
        Directory.CreateSymbolicLink(_dir["etc"], "/etc");
        using var disk = HostFolderDisk.Open(_dir.Path, writable: false);
        var volume = FatVolume.Read(disk);
        Assert.Equal(["real.txt"], volume.Root.Children.Select(c => c.Name));
        Assert.Contains(disk.Warnings, w => w.Contains("'etc' left out: it is a symbolic link (not followed)"));
        Assert.Contains(disk.Warnings, w => w.Contains("'link.txt' left out"));
    }

    [Fact]
    public void NamesFatCannotHoldAndCaseTwinsAreLeftOut()
    {
        _dir.Write("a:b", "1");
        _dir.Write("README", "2");
        _dir.Write("readme", "3");
        using var disk = HostFolderDisk.Open(_dir.Path, writable: false);
        Assert.Equal(["README"], FatVolume.Read(disk).Root.Children.Select(c => c.Name));
        Assert.Equal(2, disk.Warnings.Count);
    }

    [Fact]
    public void ARootOfMoreThan512EntriesIsRefusedAsQemuDoes()
    {
        // The label and 255 two-entry names are 511 entries: QEMU takes them; one more is too many.
        for (int i = 0; i < 255; i++)
        {
            _dir.Write($"f{i}", "");
        }

        HostFolderDisk.Open(_dir.Path, writable: false).Dispose();
        _dir.Write("f255", "");
        var e = Assert.Throws<StorageException>(() => HostFolderDisk.Open(_dir.Path, writable: false));
        Assert.Contains("too many entries for a FAT16 root directory (513 of 512", e.Message);
    }

    [Fact]
    public void AFolderLargerThanTheDiskIsRefusedWithoutReadingIt()
    {
        using (var f = new FileStream(_dir["huge.bin"], FileMode.CreateNew))
        {
            f.SetLength(600L << 20); // sparse: nothing is written or read
        }

        var e = Assert.Throws<StorageException>(() => HostFolderDisk.Open(_dir.Path, writable: false));
        Assert.Contains("516.06 MB", e.Message);
        Assert.Contains("Directory does not fit in FAT16", e.Message);
    }

    [Fact]
    public void AMissingFolderOrAFileIsRefused()
    {
        Assert.Contains("does not exist", Assert.Throws<StorageException>(() => HostFolderDisk.Open(_dir["nope"], writable: true)).Message);
        Assert.Contains("is not a folder", Assert.Throws<StorageException>(() => HostFolderDisk.Open(_dir.Write("f", "x"), writable: true)).Message);
    }

    [Fact]
    public void AReadOnlyFolderDiskRefusesWrites()
    {
        using var disk = HostFolderDisk.Open(_dir.Path, writable: false);
        Assert.True(disk.ReadOnly);
        Assert.Throws<BlockBackendException>(() => disk.Write(0, new byte[512]));
        Assert.Throws<BlockBackendException>(() => disk.Read(disk.Length, new byte[1]));
    }

    /// <summary>A FAT tree in <see cref="TempFolder.Snapshot"/>'s form: files with their bytes as the FAT reader gives them.</summary>
    internal static SortedDictionary<string, string> Tree(FatVolume volume)
    {
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (path, node) in volume.Root.Descendants())
        {
            if (node.IsDirectory)
            {
                all[path + "/"] = "";
                continue;
            }

            using var bytes = new MemoryStream();
            volume.CopyFile(node, bytes);
            all[path] = Convert.ToHexString(bytes.ToArray());
        }

        return all;
    }
}
