namespace Emulator.Core.Machine;

/// <summary>
/// One ISA 16550 serial port of the pc machine (QEMU's isa-serial) and its backend. The index
/// picks the legacy resources as QEMU's hw/char/serial-isa.c does (isa_serial_io/isa_serial_irq):
/// COM1 0x3F8 IRQ 4, COM2 0x2F8 IRQ 3, COM3 0x3E8 IRQ 4, COM4 0x2E8 IRQ 3.
/// </summary>
/// <param name="Index">0 for COM1 … 3 for COM4.</param>
/// <param name="Output">Receives every byte the guest transmits; null discards them (no chardev).</param>
/// <param name="Input">The next received byte or -1, pulled as the guest reads the UART; null: never any input.</param>
public sealed record IsaSerialPort(int Index, Action<byte>? Output = null, Func<int>? Input = null)
{
    /// <summary>QEMU's MAX_ISA_SERIAL_PORTS.</summary>
    public const int MaxPorts = 4;

    private static readonly ushort[] IoBases = [0x3F8, 0x2F8, 0x3E8, 0x2E8];
    private static readonly int[] Irqs = [4, 3, 4, 3];

    public ushort IoBase => IoBases[CheckedIndex];

    public int Irq => Irqs[CheckedIndex];

    /// <summary>COM1 … COM4.</summary>
    public string Name => $"COM{CheckedIndex + 1}";

    private int CheckedIndex => Index is >= 0 and < MaxPorts
        ? Index
        : throw new ArgumentOutOfRangeException(nameof(Index), Index, $"ISA serial ports are numbered 0 to {MaxPorts - 1}");
}
