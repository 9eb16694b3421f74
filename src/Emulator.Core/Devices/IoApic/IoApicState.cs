namespace Emulator.Core.Devices.IoApic;

/// <summary>
/// What a snapshot keeps of the I/O APIC: the ID, IOREGSEL, the input request register, the input line levels, the 24
/// redirection entries (Remote IRR included), the interrupt-storm counters and when a deferred
/// send is due (null when none).
/// </summary>
public sealed record IoApicState(byte Id, byte Select, uint Irr, uint Levels, ulong[] Entries, int[] SuccessiveEois, long? DeferredServiceAt) : DeviceState;
