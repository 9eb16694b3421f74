namespace Emulator.Core.Devices.Hpet;

/// <summary>One HPET timer in a snapshot: its registers, the hidden period, a pending 32-bit wrap stop and its deadline (null when not armed).</summary>
public sealed record HpetTimerState(ulong Config, ulong Comparator, ulong FsbRoute, ulong Period, bool WrapPending, long? DeadlineAt);
