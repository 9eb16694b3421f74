// National Semiconductor PC16550D UART (datasheet, June 1995) as QEMU's hw/char/serial.c
// presents it. Addresses: COM1 0x3F8–0x3FF (8 ports; COM2 0x2F8 if the machine adds one), IRQ 4.
// Emulated: THR/RBR, IER, IIR/FCR (FIFO enable → IIR bits 7–6 = 11; receive/transmit FIFO
// reset; trigger level stored), LCR with the DLAB divisor latch (DLL/DLM), MCR (5 bits,
// loopback: transmitted bytes come back as received ones and MSR mirrors MCR: DTR→DSR,
// RTS→CTS, OUT1→RI, OUT2→DCD), LSR (transmission is instant, so THRE|TEMT are always set; DR
// while received data waits; OE when a byte arrives with the FIFO full), MSR (0xB0 = DCD|DSR|CTS
// outside loopback, QEMU's reset value with a chardev that has no modem lines), SCR, the
// interrupt priority of IIR (line status, received data, THR empty; the modem lines never
// change, so no modem-status interrupt) and an
// interrupt output line (level = an interrupt is identified, as QEMU, not gated by OUT2).
// Input is pulled: whenever the guest reads LSR or RBR and the receive FIFO is empty, one byte
// is taken from the machine's source (or by Poll), so scripted input arrives as the guest reads.
// A read of LSR or RBR that finds nothing received is reported (InputAwaited): the guest is
// polling for input that has not come, which the host's idle milestone watches.
// Not emulated: baud-rate timing, character timeout interrupts, receive trigger levels (any data
// raises the received-data interrupt), break, parity/framing errors, the transmit FIFO (bytes
// leave at once).
// Firmware relies on: the scratch-register probe, LSR THRE polling before each byte, MCR
// DTR/RTS writes and MSR polling by the serial terminal driver, FIFO enable in FCR.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Uart16550;

/// <summary>A 16550A UART with an output sink and a pull input source.</summary>
public sealed class Uart : IPortDevice, IDevice
{
    public const ushort Com1BasePort = 0x3F8;
    public const ushort Com2BasePort = 0x2F8;
    public const int Com1Irq = 4;
    public const int PortCount = 8;
    public const int FifoSize = 16;

    public const ushort DataOffset = 0;
    public const ushort InterruptEnableOffset = 1;
    public const ushort InterruptIdentOffset = 2;
    public const ushort FifoControlOffset = 2;
    public const ushort LineControlOffset = 3;
    public const ushort ModemControlOffset = 4;
    public const ushort LineStatusOffset = 5;
    public const ushort ModemStatusOffset = 6;
    public const ushort ScratchOffset = 7;

    public const byte IerReceivedData = 0x01;
    public const byte IerTransmitEmpty = 0x02;
    public const byte IerLineStatus = 0x04;
    public const byte IerModemStatus = 0x08;
    public const byte IerMask = 0x0F;
    public const byte IirNoInterrupt = 0x01;
    public const byte IirTransmitEmpty = 0x02;
    public const byte IirReceivedData = 0x04;
    public const byte IirLineStatus = 0x06;
    public const byte IirFifoEnabled = 0xC0;
    public const byte FcrEnable = 0x01;
    public const byte FcrClearReceive = 0x02;
    public const byte FcrClearTransmit = 0x04;
    public const byte FcrTriggerMask = 0xC0;
    public const byte LcrDlab = 0x80;
    public const byte McrDtr = 0x01;
    public const byte McrRts = 0x02;
    public const byte McrOut1 = 0x04;
    public const byte McrOut2 = 0x08;
    public const byte McrLoopback = 0x10;
    public const byte McrMask = 0x1F;
    public const byte LsrDataReady = 0x01;
    public const byte LsrOverrun = 0x02;
    public const byte LsrBreak = 0x10;
    public const byte LsrTransmitHoldingEmpty = 0x20;
    public const byte LsrTransmitterEmpty = 0x40;
    public const byte MsrCts = 0x10;
    public const byte MsrDsr = 0x20;
    public const byte MsrRi = 0x40;
    public const byte MsrDcd = 0x80;
    public const byte MsrDefault = MsrDcd | MsrDsr | MsrCts;
    public const ushort DefaultDivisor = 12;

    private readonly Action<byte> _output;
    private readonly Func<int> _input;
    private readonly Queue<byte> _receive = new(FifoSize);
    private byte _ier;
    private byte _fcr;
    private byte _lcr;
    private byte _mcr = McrOut2;
    private byte _lsrErrors;
    private byte _scratch;
    private bool _transmitInterruptPending;

    /// <param name="output">Receives every byte the guest transmits outside loopback.</param>
    /// <param name="input">Returns the next input byte, or -1 when there is none yet.</param>
    /// <param name="name">The device's name in its machine ("com1" …).</param>
    public Uart(Action<byte> output, Func<int> input, string name = "uart16550")
    {
        _output = output;
        _input = input;
        Name = name;
        Irq = new OutputLine(name + ".irq");
    }

    public string Name { get; }

    /// <summary>The interrupt output, set when its level changes (ISA IRQ 4 for COM1).</summary>
    public OutputLine Irq { get; }

    /// <summary>
    /// Machine reset (QEMU serial_reset): interrupts off, FIFOs off and empty, 8-bit word cleared
    /// to LCR 0, MCR = OUT2, scratch 0, divisor back to its power-on value. Input bytes not yet
    /// pulled from the host stay with the host.
    /// </summary>
    public void Reset()
    {
        _receive.Clear();
        _ier = 0;
        _fcr = 0;
        _lcr = 0;
        _mcr = McrOut2;
        _lsrErrors = 0;
        _scratch = 0;
        _transmitInterruptPending = false;
        Divisor = DefaultDivisor;
        UpdateInterrupt();
    }

    /// <summary>Raised when the guest reads LSR or RBR and no received byte waits (it polls for input that has not come).</summary>
    public event Action? InputAwaited;

    public ushort Divisor { get; private set; } = DefaultDivisor;

    /// <summary>Every register, the received bytes waiting in the FIFO and the interrupt level (QEMU vmstate "serial" with its fifo subsection).</summary>
    public DeviceState SaveState() => new UartState(
        [.. _receive], _ier, _fcr, _lcr, _mcr, _lsrErrors, _scratch, _transmitInterruptPending, Divisor, Irq.Level);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<UartState>(state, this);
        _receive.Clear();
        foreach (byte b in s.Received)
        {
            _receive.Enqueue(b);
        }

        _ier = s.Ier;
        _fcr = s.Fcr;
        _lcr = s.Lcr;
        _mcr = s.Mcr;
        _lsrErrors = s.LsrErrors;
        _scratch = s.Scratch;
        _transmitInterruptPending = s.TransmitInterruptPending;
        Divisor = s.Divisor;
        Irq.Restore(s.Interrupt);
    }

    public byte LineControl => _lcr;

    public bool FifoEnabled => (_fcr & FcrEnable) != 0;

    private bool Loopback => (_mcr & McrLoopback) != 0;

    private bool Dlab => (_lcr & LcrDlab) != 0;

    public uint Read(ushort offset, int size)
    {
        byte value;
        switch (offset)
        {
            case DataOffset when Dlab:
                value = (byte)Divisor;
                break;
            case DataOffset when Pull():
                value = _receive.Dequeue();
                break;
            case DataOffset:
                InputAwaited?.Invoke();
                value = 0;
                break;
            case InterruptEnableOffset when Dlab:
                value = (byte)(Divisor >> 8);
                break;
            case InterruptEnableOffset:
                value = _ier;
                break;
            case InterruptIdentOffset:
                value = (byte)(Identify() | (FifoEnabled ? IirFifoEnabled : 0));
                if ((value & ~IirFifoEnabled) == IirTransmitEmpty)
                {
                    _transmitInterruptPending = false;
                }

                break;
            case LineControlOffset:
                value = _lcr;
                break;
            case ModemControlOffset:
                value = _mcr;
                break;
            case LineStatusOffset:
                if (!Pull())
                {
                    InputAwaited?.Invoke();
                }

                value = LineStatus();
                _lsrErrors = 0;
                break;
            case ModemStatusOffset:
                value = ModemStatus();
                break;
            default:
                value = _scratch;
                break;
        }

        UpdateInterrupt();
        return value;
    }

    public void Write(ushort offset, int size, uint value)
    {
        byte v = (byte)value;
        switch (offset)
        {
            case DataOffset when Dlab:
                Divisor = (ushort)((Divisor & 0xFF00) | v);
                break;
            case DataOffset:
                Transmit(v);
                break;
            case InterruptEnableOffset when Dlab:
                Divisor = (ushort)((Divisor & 0x00FF) | (v << 8));
                break;
            case InterruptEnableOffset:
                byte changed = (byte)((_ier ^ v) & IerMask);
                _ier = (byte)(v & IerMask);
                if ((changed & IerTransmitEmpty) != 0 && (_ier & IerTransmitEmpty) != 0)
                {
                    _transmitInterruptPending = true;
                }

                break;
            case FifoControlOffset:
                WriteFifoControl(v);
                break;
            case LineControlOffset:
                _lcr = v;
                break;
            case ModemControlOffset:
                _mcr = (byte)(v & McrMask);
                break;
            case LineStatusOffset:
            case ModemStatusOffset:
                break;
            default:
                _scratch = v;
                break;
        }

        UpdateInterrupt();
    }

    /// <summary>Pulls pending input (if the receive FIFO is empty) and updates the interrupt output.</summary>
    public void Poll()
    {
        Pull();
        UpdateInterrupt();
    }

    private void Transmit(byte value)
    {
        if (Loopback)
        {
            Receive(value);
        }
        else
        {
            _output(value);
        }

        _transmitInterruptPending = true;
    }

    /// <summary>Takes the next input byte when the receive FIFO is empty; true when a received byte now waits.</summary>
    private bool Pull()
    {
        if (!Loopback && _receive.Count == 0)
        {
            int next = _input();
            if (next >= 0)
            {
                Receive((byte)next);
            }
        }

        return _receive.Count > 0;
    }

    private void Receive(byte value)
    {
        int capacity = FifoEnabled ? FifoSize : 1;
        if (_receive.Count >= capacity)
        {
            _lsrErrors |= LsrOverrun;
            if (!FifoEnabled)
            {
                _receive.Clear();
                _receive.Enqueue(value);
            }

            return;
        }

        _receive.Enqueue(value);
    }

    private void WriteFifoControl(byte value)
    {
        if (((value ^ _fcr) & FcrEnable) != 0 || (value & FcrClearReceive) != 0)
        {
            _receive.Clear();
        }

        _fcr = (byte)(value & (FcrEnable | FcrTriggerMask));
    }

    private byte LineStatus() =>
        (byte)(LsrTransmitHoldingEmpty | LsrTransmitterEmpty | _lsrErrors | (_receive.Count > 0 ? LsrDataReady : 0));

    private byte ModemStatus()
    {
        if (!Loopback)
        {
            return MsrDefault;
        }

        int value = ((_mcr & McrDtr) != 0 ? MsrDsr : 0)
            | ((_mcr & McrRts) != 0 ? MsrCts : 0)
            | ((_mcr & McrOut1) != 0 ? MsrRi : 0)
            | ((_mcr & McrOut2) != 0 ? MsrDcd : 0);
        return (byte)value;
    }

    private byte Identify()
    {
        if ((_ier & IerLineStatus) != 0 && (_lsrErrors & (LsrOverrun | LsrBreak)) != 0)
        {
            return IirLineStatus;
        }

        if ((_ier & IerReceivedData) != 0 && _receive.Count > 0)
        {
            return IirReceivedData;
        }

        if ((_ier & IerTransmitEmpty) != 0 && _transmitInterruptPending)
        {
            return IirTransmitEmpty;
        }

        return IirNoInterrupt;
    }

    private void UpdateInterrupt()
    {
        bool level = Identify() != IirNoInterrupt;
        if (level != Irq.Level)
        {
            Irq.Set(level);
        }
    }
}

/// <summary>A 16550's received bytes (oldest first), IER, FCR, LCR, MCR, pending line errors, scratch, the THR-empty interrupt latch, divisor and interrupt level.</summary>
public sealed record UartState(
    byte[] Received, byte Ier, byte Fcr, byte Lcr, byte Mcr, byte LsrErrors, byte Scratch, bool TransmitInterruptPending, ushort Divisor, bool Interrupt) : DeviceState;
