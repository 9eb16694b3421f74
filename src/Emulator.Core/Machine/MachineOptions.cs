namespace Emulator.Core.Machine;

/// <summary>A flash image to map: its bytes, a display name, and whether the chip rejects writes.</summary>
public sealed record FlashImage(string Name, byte[] Contents, bool ReadOnly);

/// <summary>What to build: RAM size, flash units, and bus behaviour.</summary>
public sealed class MachineOptions
{
    public const ulong DefaultRamSize = 256UL << 20;

    public ulong RamSize { get; init; } = DefaultRamSize;

    /// <summary>Unit 0 (code, or a unified image) and optionally unit 1 (varstore).</summary>
    public IReadOnlyList<FlashImage> Flash { get; init; } = [];

    public ulong MaxFirmwareSize { get; init; } = FlashLayout.DefaultMaxFirmwareSize;

    /// <summary>QEMU reads unassigned memory as 0; real hardware (our default) as all-ones.</summary>
    public bool UnassignedReadsZero { get; init; }

    /// <summary>
    /// Let recognised PM-timer polling skip virtual time (<see cref="Timing.BusyWaitSkipper"/>).
    /// Off, every wait costs its full instructions — for measuring what the skipping saves.
    /// </summary>
    public bool SkipBusyWaits { get; init; } = true;

    /// <summary>COM1's input: the next received byte, or -1; pulled as the guest reads the UART.</summary>
    public Func<int>? SerialInput { get; init; }

    /// <summary>What the RTC shows at virtual time 0 (default <see cref="PcMachine.DefaultRtcStart"/>).</summary>
    public DateTime? RtcStart { get; init; }

    /// <summary>Receives bytes the guest transmits on COM1.</summary>
    public Action<byte>? SerialOutput { get; init; }

    /// <summary>A guest reset or triple fault ends the run instead of restarting the machine (QEMU's -no-reboot).</summary>
    public bool NoReboot { get; init; }

    /// <summary>Resets allowed before the run stops as a reset loop.</summary>
    public int MaxResets { get; init; } = PcMachine.DefaultMaxResets;

    /// <summary>Receives bytes written to the debug console port 0x402 (OVMF DEBUG builds log there).</summary>
    public Action<byte>? DebugConsoleOutput { get; init; }
}
