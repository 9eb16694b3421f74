namespace Emulator.Core.Devices.CfiFlash;

/// <summary>
/// The CFI query table QEMU 7.2's pflash_cfi01 presents for the PC machine's chips
/// (docs/qemu-pflash.md), byte for byte, including QEMU's quirk that the device-size
/// byte is the count of trailing zero bits of the size (so a non-power-of-two chip misreports).
/// </summary>
internal static class CfiQueryTable
{
    public const int Length = 0x52;

    public static byte[] Build(ulong chipSize, int sectorSize)
    {
        var t = new byte[Length];
        t[0x10] = (byte)'Q';
        t[0x11] = (byte)'R';
        t[0x12] = (byte)'Y';
        t[0x13] = 0x01; // primary command set 0x0001 (Intel/Sharp)
        t[0x14] = 0x00;
        t[0x15] = 0x31; // primary extended table at 0x31
        t[0x16] = 0x00;
        t[0x1B] = 0x45; // Vcc min 4.5 V
        t[0x1C] = 0x55; // Vcc max 5.5 V
        t[0x1F] = 0x07; // typical single-byte program 2^7 us
        t[0x20] = 0x07; // typical buffer write 2^7 us
        t[0x21] = 0x0A; // typical block erase 2^10 ms
        t[0x22] = 0x00;
        t[0x23] = 0x04;
        t[0x24] = 0x04;
        t[0x25] = 0x04;
        t[0x26] = 0x00;
        t[0x27] = (byte)System.Numerics.BitOperations.TrailingZeroCount(chipSize);
        t[0x28] = 0x02; // interface: x8/x16
        t[0x29] = 0x00;
        t[0x2A] = 0x08; // max buffer write 2^8 bytes
        t[0x2B] = 0x00;
        t[0x2C] = 0x01; // one erase block region
        ulong blocks = chipSize / (ulong)sectorSize - 1;
        t[0x2D] = (byte)blocks;
        t[0x2E] = (byte)(blocks >> 8);
        t[0x2F] = (byte)(sectorSize >> 8);
        t[0x30] = (byte)(sectorSize >> 16);
        t[0x31] = (byte)'P';
        t[0x32] = (byte)'R';
        t[0x33] = (byte)'I';
        t[0x34] = (byte)'1';
        t[0x35] = (byte)'0';
        t[0x3F] = 0x01;
        return t;
    }
}
