namespace Emulator.Firmware.Varstore;

/// <summary>One write of an edit, in the order the firmware would make it; <see cref="Step"/> says what it does.</summary>
public sealed record FlashWrite(int Offset, byte[] Bytes, string Step);
