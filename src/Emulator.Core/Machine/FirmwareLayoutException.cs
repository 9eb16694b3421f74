namespace Emulator.Core.Machine;

/// <summary>A firmware image set QEMU would refuse (sizes, missing unit 0): the message is QEMU's reason.</summary>
public sealed class FirmwareLayoutException(string message) : Exception(message);
