namespace Emulator.Core.Devices.Hpet;

/// <summary>
/// What a snapshot keeps of the HPET: general configuration, interrupt status, the counter
/// (its value while disabled) and the offset from virtual time (while enabled), each timer, and
/// the level of each of the 32 interrupt outputs.
/// </summary>
public sealed record HpetState(ulong Config, ulong InterruptStatus, ulong Counter, ulong Offset, HpetTimerState[] Timers, bool[] IrqLevels) : DeviceState;
