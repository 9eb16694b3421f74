using Emulator.Core.Storage;
using Emulator.Storage.Fat;
using Emulator.Storage.Inspection;

namespace Emulator.Storage.Tests;

/// <summary>
/// What a hostile or broken guest can leave: random bytes over the FAT, the directories and the
/// boot sector of a folder disk. The FAT reader accepts or refuses with <see cref="InvalidDataException"/>;
/// a commit succeeds or refuses with one <see cref="StorageException"/> line; nothing outside the
/// folder is ever touched. The image inspector, given damaged ISO and GPT structures, never throws.
/// Fixed seeds, so a failure replays.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class DamagedFileSystemFuzzTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void DamagedMetadataIsCommittedOrRefusedInsideTheFolder(int seed)
    {
        var random = new Random(seed);
        using var parent = new TempFolder();
        for (int round = 0; round < 60; round++)
        {
            string folder = Path.Combine(parent.Path, "dir");
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }

            Directory.CreateDirectory(Path.Combine(folder, "sub"));
            File.WriteAllText(Path.Combine(folder, "a.txt"), "a");
            File.WriteAllBytes(Path.Combine(folder, "sub", "b.bin"), new byte[20000]);
            using var disk = HostFolderDisk.Open(folder, writable: true);
            var guest = new GuestFatWriter(disk);
            guest.WriteFile("sub/new.txt", [1, 2, 3]);
            long subdir = VvfatGeometry.ClusterOffset(guest.FirstCluster("sub"));
            for (int k = random.Next(1, 12); k > 0; k--)
            {
                // The FAT's used part, the root directory, or the subdirectory's cluster.
                long at = random.Next(4) switch
                {
                    3 => 63 * 512 + random.Next(64), // the BPB: FatVolume.Read sees it even where a commit refuses it
                    0 => (long)VvfatGeometry.FirstFatSector * 512 + random.Next(64),
                    1 => (long)VvfatGeometry.RootDirectorySector * 512 + random.Next(256),
                    _ => subdir + random.Next(256),
                };
                disk.Write(at, [(byte)random.Next(256)]);
            }

            try
            {
                FatVolume.Read(disk);
            }
            catch (InvalidDataException)
            {
            }

            try
            {
                disk.Commit();
            }
            catch (StorageException e)
            {
                Assert.DoesNotContain('\n', e.Message);
            }

            Assert.Equal(["dir"], Directory.EnumerateFileSystemEntries(parent.Path).Select(Path.GetFileName));
        }
    }

    [Fact]
    public void DamagedIsoAndGptStructuresNeverThrow()
    {
        var random = new Random(7);
        byte[] clean = new byte[40 * 2048];
        "CD001"u8.CopyTo(clean.AsSpan(16 * 2048 + 1));
        clean[16 * 2048] = 1;
        "CD001"u8.CopyTo(clean.AsSpan(17 * 2048 + 1));
        "EL TORITO SPECIFICATION"u8.CopyTo(clean.AsSpan(17 * 2048 + 7));
        clean[17 * 2048 + 0x47] = 19;
        clean[19 * 2048] = 1;
        clean[19 * 2048 + 30] = 0x55;
        clean[19 * 2048 + 31] = 0xAA;
        clean[446 + 4] = 0xEE;
        clean[446 + 8] = 1;
        clean[446 + 12] = 0xFF;
        clean[510] = 0x55;
        clean[511] = 0xAA;
        "EFI PART"u8.CopyTo(clean.AsSpan(512));
        for (int round = 0; round < 2000; round++)
        {
            byte[] image = (byte[])clean.Clone();
            for (int k = random.Next(1, 20); k > 0; k--)
            {
                int region = random.Next(4);
                int at = region switch { 0 => random.Next(1024), 1 => 16 * 2048 + random.Next(4096), 2 => 19 * 2048 + random.Next(2048), _ => random.Next(image.Length) };
                image[at] = (byte)random.Next(256);
            }

            _ = DiskImageInspector.Inspect(new MemoryBlockBackend(image)).Summary();
        }
    }
}
