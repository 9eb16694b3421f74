using System.Buffers.Binary;
using Emulator.Firmware.Varstore;

namespace Emulator.Boot.Tests.Varstore;

/// <summary>
/// What <c>vars check</c> predicts for a damaged store is what the real firmware does with it:
/// the 2 MB RELEASE pair boots a damaged copy to the idle Shell (the run persists the firmware's
/// writes into the file) and the store it leaves is compared with the prediction. The damages are
/// the ones the firmware repairs (a rejected store never boots, so there is nothing to compare).
/// Observed alike on QEMU 7.2 with the same files (docs/varstores.md, "What check validates").
/// </summary>
[Trait("Category", "Boot")]
public class DamagedStoreBootTests
{
    private const string Vendor = "3F6C1C1A-5E0B-4A57-9D2A-0B1D6E5A7C11";
    private const int WorkingBlock = 0xF000;
    private static readonly string[] Ours = ["EmuBefore", "EmuMiddle", "EmuAfter"];

    [Theory]
    [InlineData("start-id")]
    [InlineData("ftw-crc")]
    [InlineData("ftw-queue-size")]
    public void TheFirmwareRepairsWhatCheckSaysItWill(string damage)
    {
        using var store = new TempCopy(Fixtures.Vars2M);
        foreach (string name in Ours)
        {
            Assert.Equal(0, CliRunner.Run("vars", "set", store.Path, name, "--guid", Vendor, "--data-hex", "0102", "--attributes", "nv,bs").ExitCode);
        }

        File.WriteAllBytes(store.Path, Damage(store.Bytes, damage));
        var check = CliRunner.Run("vars", "check", store.Path);
        var before = VarstoreImage.Parse(store.Bytes);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("verdict: the firmware would repair it at its next boot", check.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("reject", check.Stdout, StringComparison.Ordinal);

        var boot = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", store.Path, "--until", "idle", "--quiet");
        Assert.Equal(0, boot.ExitCode);

        var after = VarstoreImage.Parse(store.Bytes);
        Assert.Equal(0, CliRunner.Run("vars", "check", store.Path).ExitCode);
        Assert.True(after.Ftw!.HeaderValid);
        var live = after.LiveVariables.Select(r => r.Name).ToHashSet();
        if (damage == "start-id")
        {
            // Predicted: the walk stops at EmuMiddle's header, the reclaim drops it and EmuAfter.
            Assert.Equal(["EmuBefore"], before.Records.Select(r => r.Name));
            Assert.Equal(["EmuAfter"], before.UnreachableRecords.Select(r => r.Name));
            Assert.Contains("repair 0xB8:", check.Stdout, StringComparison.Ordinal);
            Assert.Contains("EmuBefore", live);
            Assert.DoesNotContain("EmuMiddle", live);
            Assert.DoesNotContain("EmuAfter", live);
            Assert.Contains(after.Records, r => r.Offset == 0xB8); // rewritten: the walk now passes where the broken header was
        }
        else
        {
            // Predicted: the working block is invalid, the spare holds no valid copy, a fresh one is written; no variable is touched.
            Assert.False(before.Ftw!.HeaderValid);
            Assert.Contains(damage == "ftw-crc" ? "repair 0xF010:" : "repair 0xF018:", check.Stdout, StringComparison.Ordinal);
            Assert.Contains("writes a fresh, empty working block", check.Stdout, StringComparison.Ordinal);
            Assert.Equal(0xFE0UL, after.Ftw.WriteQueueSize);
            Assert.All(Ours, name => Assert.Contains(name, live));
        }
    }

    private static byte[] Damage(byte[] bytes, string damage)
    {
        switch (damage)
        {
            case "start-id":
                bytes[0xB8] = 0; // EmuMiddle's StartId
                bytes[0xB9] = 0;
                break;
            case "ftw-crc":
                bytes[WorkingBlock + 16] ^= 1;
                break;
            default:
                // The case that crashed every command: a CRC-valid header claiming an impossible queue.
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(WorkingBlock + 24), 0xFFFF_FFFF_FFFF_FFF0);
                byte[] header = bytes.AsSpan(WorkingBlock, 0x20).ToArray();
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), 0xFFFF_FFFF);
                header[20] = 0xFF;
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(WorkingBlock + 16), Crc32.Compute(header));
                break;
        }

        return bytes;
    }
}
