// Intel 8042 keyboard controller with a PS/2 keyboard behind it, ports 0x60 (data) and 0x64
// (status/command), as QEMU's hw/input/pckbd.c and hw/input/ps2.c answer firmware.
// Emulated: the status register (OBF 0x01, SYS 0x04 after the self-test, CMD 0x08 = last write
// went to 0x64, UNLOCKED 0x10, AUX_OBF 0x20 when the next byte is from the aux port), the command
// byte (0x20 read / 0x60 write), self-test 0xAA → 0x55, interface tests 0xAB/0xA9 → 0x00, port
// enable/disable 0xA7/0xA8/0xAD/0xAE, input port 0xC0, output port 0xD0/0xD1, write to output
// buffers 0xD2/0xD3, 0xD4 forwarding to the aux device, A20 0xDD/0xDF (stored; the machine keeps
// A20 on), and the pulse commands 0xF0–0xFF: pulsing output bit 0 (0xFE) resets the machine, as
// does clearing bit 0 of the output port with 0xD1. The keyboard answers reset 0xFF (ACK, 0xAA),
// identify 0xF2 (ACK, 0xAB, 0x41 translated or 0x83), LEDs 0xED and rate 0xF3 (ACK, ACK), scan
// set 0xF0 (ACK, ACK; argument 0 reports set 2), enable/disable/defaults (ACK), echo 0xEE, and
// RESEND (0xFE) to anything else; the aux device ACKs (reset: ACK, 0xAA, 0x00).
// Not emulated: IRQ 1/12 (OVMF polls), key presses (input comes through COM1), a real mouse.
// A status read with the output buffer empty is reported (InputAwaited): the guest is polling
// for a key that has not come (OVMF's keyboard driver does every 20 ms), which the host's idle
// milestone watches.
// Firmware relies on: OVMF's Ps2KeyboardDxe self-test, keyboard reset, scan-set and LED
// commands with polled status; ResetSystemLib's warm reset writes 0xFE to port 0x64.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Ps2;

/// <summary>The i8042 keyboard controller and its keyboard.</summary>
public sealed class I8042 : IPortDevice, IDevice
{
    public const ushort DataPort = 0x60;
    public const ushort CommandPort = 0x64;
    public const int PortCount = 1;

    public const byte StatusOutputFull = 0x01;
    public const byte StatusSystem = 0x04;
    public const byte StatusCommand = 0x08;
    public const byte StatusUnlocked = 0x10;
    public const byte StatusAuxOutputFull = 0x20;

    public const byte CommandReadMode = 0x20;
    public const byte CommandWriteMode = 0x60;
    public const byte CommandAuxDisable = 0xA7;
    public const byte CommandAuxEnable = 0xA8;
    public const byte CommandAuxTest = 0xA9;
    public const byte CommandSelfTest = 0xAA;
    public const byte CommandKeyboardTest = 0xAB;
    public const byte CommandKeyboardDisable = 0xAD;
    public const byte CommandKeyboardEnable = 0xAE;
    public const byte CommandReadInputPort = 0xC0;
    public const byte CommandReadOutputPort = 0xD0;
    public const byte CommandWriteOutputPort = 0xD1;
    public const byte CommandWriteKeyboardBuffer = 0xD2;
    public const byte CommandWriteAuxBuffer = 0xD3;
    public const byte CommandWriteAux = 0xD4;
    public const byte CommandDisableA20 = 0xDD;
    public const byte CommandEnableA20 = 0xDF;
    public const byte CommandPulseReset = 0xFE;

    public const byte SelfTestPassed = 0x55;
    public const byte Ack = 0xFA;
    public const byte Resend = 0xFE;
    public const byte BatPassed = 0xAA;

    public const byte ModeKeyboardInterrupt = 0x01;
    public const byte ModeAuxInterrupt = 0x02;
    public const byte ModeDisableKeyboard = 0x10;
    public const byte ModeDisableAux = 0x20;
    public const byte ModeTranslate = 0x40;

    public const byte OutputPortReset = 0x01;
    public const byte OutputPortA20 = 0x02;
    public const byte OutputPortOnes = 0xCC;

    private const byte PulseCommands = 0xF0;
    private const byte InputPortDefault = 0x80;

    private const byte KeyboardSetLeds = 0xED;
    private const byte KeyboardEcho = 0xEE;
    private const byte KeyboardScanSet = 0xF0;
    private const byte KeyboardIdentify = 0xF2;
    private const byte KeyboardSetRate = 0xF3;
    private const byte KeyboardEnable = 0xF4;
    private const byte KeyboardDisable = 0xF5;
    private const byte KeyboardDefaults = 0xF6;
    private const byte KeyboardReset = 0xFF;
    private const byte KeyboardIdFirst = 0xAB;
    private const byte KeyboardIdTranslated = 0x41;
    private const byte KeyboardIdRaw = 0x83;
    private const byte DefaultScanSet = 2;

    private readonly Action _resetRequested;
    private readonly Queue<(byte Value, bool Aux)> _output = new();
    private byte _status;
    private byte _mode;
    private byte _outputPort;
    private byte _pendingCommand;
    private byte _keyboardCommand;
    private byte _scanSet;
    private byte _lastRead;

    /// <param name="resetRequested">Called when the guest pulses the CPU reset line.</param>
    public I8042(Action resetRequested)
    {
        _resetRequested = resetRequested;
        CommandRegister = new StatusCommandPort(this);
        Reset();
    }

    public string Name => "i8042";

    /// <summary>Port 0x64 (status on read, command on write); this device itself is port 0x60.</summary>
    public IPortDevice CommandRegister { get; }

    public byte CommandByte => _mode;

    /// <summary>Raised when the guest reads the status register and the output buffer is empty (it polls for a key that has not come).</summary>
    public event Action? InputAwaited;

    /// <summary>Power-on / machine reset state (QEMU kbd_reset and ps2_kbd_reset); the last byte read stays, as port 0x60 repeats it.</summary>
    public void Reset()
    {
        _mode = ModeKeyboardInterrupt | ModeAuxInterrupt;
        _status = StatusCommand | StatusUnlocked;
        _outputPort = OutputPortReset | OutputPortA20 | OutputPortOnes;
        _pendingCommand = 0;
        _keyboardCommand = 0;
        _scanSet = DefaultScanSet;
        _output.Clear();
    }

    /// <summary>The controller's registers, the output queue and the keyboard's command state (QEMU vmstate "pckbd" and "ps2kbd").</summary>
    public DeviceState SaveState() => new I8042State(
        [.. _output.Select(o => o.Value)], [.. _output.Select(o => o.Aux)], _status, _mode, _outputPort, _pendingCommand, _keyboardCommand, _scanSet, _lastRead);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<I8042State>(state, this);
        _output.Clear();
        for (int i = 0; i < s.OutputBytes.Length; i++)
        {
            _output.Enqueue((s.OutputBytes[i], s.OutputFromAux[i]));
        }

        _status = s.Status;
        _mode = s.Mode;
        _outputPort = s.OutputPort;
        _pendingCommand = s.PendingCommand;
        _keyboardCommand = s.KeyboardCommand;
        _scanSet = s.ScanSet;
        _lastRead = s.LastRead;
    }

    /// <summary>Port 0x60: the next byte of the output buffer.</summary>
    public uint Read(ushort offset, int size)
    {
        // An empty buffer repeats the last byte, as QEMU's ps2_read_data does.
        if (_output.TryDequeue(out var item))
        {
            _lastRead = item.Value;
        }

        return _lastRead;
    }

    /// <summary>Port 0x60: data for the keyboard, or the argument of a pending controller command.</summary>
    public void Write(ushort offset, int size, uint value)
    {
        _status = (byte)(_status & ~StatusCommand);
        WriteData((byte)value);
    }

    private byte ReadStatus()
    {
        byte status = (byte)(_status & ~(StatusOutputFull | StatusAuxOutputFull));
        if (_output.TryPeek(out var next))
        {
            status |= (byte)(StatusOutputFull | (next.Aux ? StatusAuxOutputFull : 0));
        }
        else
        {
            InputAwaited?.Invoke();
        }

        return status;
    }

    private void WriteCommand(byte command)
    {
        // 0xF0–0xFF pulse output-port bits 0–3 low; only bit 0 (CPU reset) matters (pckbd.c).
        if ((command & PulseCommands) == PulseCommands)
        {
            if ((command & OutputPortReset) == 0)
            {
                _resetRequested();
            }

            return;
        }

        switch (command)
        {
            case CommandReadMode:
                Reply(_mode);
                break;
            case CommandWriteMode:
            case CommandWriteOutputPort:
            case CommandWriteKeyboardBuffer:
            case CommandWriteAuxBuffer:
            case CommandWriteAux:
                _pendingCommand = command;
                break;
            case CommandAuxDisable:
                _mode |= ModeDisableAux;
                break;
            case CommandAuxEnable:
                _mode = (byte)(_mode & ~ModeDisableAux);
                break;
            case CommandAuxTest:
            case CommandKeyboardTest:
                Reply(0x00);
                break;
            case CommandSelfTest:
                _status |= StatusSystem;
                Reply(SelfTestPassed);
                break;
            case CommandKeyboardDisable:
                _mode |= ModeDisableKeyboard;
                break;
            case CommandKeyboardEnable:
                _mode = (byte)(_mode & ~ModeDisableKeyboard);
                break;
            case CommandReadInputPort:
                Reply(InputPortDefault);
                break;
            case CommandReadOutputPort:
                Reply(_outputPort);
                break;
            case CommandDisableA20:
                _outputPort = (byte)(_outputPort & ~OutputPortA20);
                break;
            case CommandEnableA20:
                _outputPort |= OutputPortA20;
                break;
        }
    }

    private void WriteData(byte value)
    {
        byte pending = _pendingCommand;
        _pendingCommand = 0;
        switch (pending)
        {
            case CommandWriteMode:
                _mode = value;
                break;
            case CommandWriteOutputPort:
                _outputPort = value;
                if ((value & OutputPortReset) == 0)
                {
                    _resetRequested();
                }

                break;
            case CommandWriteKeyboardBuffer:
                Reply(value);
                break;
            case CommandWriteAuxBuffer:
                _output.Enqueue((value, true));
                break;
            case CommandWriteAux:
                WriteAux(value);
                break;
            default:
                WriteKeyboard(value);
                break;
        }
    }

    private void WriteKeyboard(byte value)
    {
        byte command = _keyboardCommand;
        _keyboardCommand = 0;
        if (command == KeyboardScanSet)
        {
            Reply(Ack);
            if (value == 0)
            {
                Reply(_scanSet);
            }
            else if (value <= 3)
            {
                _scanSet = value;
            }

            return;
        }

        if (command is KeyboardSetLeds or KeyboardSetRate)
        {
            Reply(Ack);
            return;
        }

        switch (value)
        {
            case KeyboardReset:
                _scanSet = DefaultScanSet;
                Reply(Ack);
                Reply(BatPassed);
                break;
            case KeyboardIdentify:
                Reply(Ack);
                Reply(KeyboardIdFirst);
                Reply((_mode & ModeTranslate) != 0 ? KeyboardIdTranslated : KeyboardIdRaw);
                break;
            case KeyboardSetLeds:
            case KeyboardSetRate:
            case KeyboardScanSet:
                _keyboardCommand = value;
                Reply(Ack);
                break;
            case KeyboardEnable:
            case KeyboardDisable:
            case KeyboardDefaults:
                Reply(Ack);
                break;
            case KeyboardEcho:
                Reply(KeyboardEcho);
                break;
            default:
                Reply(Resend);
                break;
        }
    }

    private void WriteAux(byte value)
    {
        _output.Enqueue((Ack, true));
        if (value == KeyboardReset)
        {
            _output.Enqueue((BatPassed, true));
            _output.Enqueue((0x00, true));
        }
    }

    private void Reply(byte value) => _output.Enqueue((value, false));

    private sealed class StatusCommandPort(I8042 controller) : IPortDevice
    {
        public string Name => "i8042-command";

        public uint Read(ushort offset, int size) => controller.ReadStatus();

        public void Write(ushort offset, int size, uint value)
        {
            controller._status |= StatusCommand;
            controller.WriteCommand((byte)value);
        }
    }
}

/// <summary>
/// The i8042: the output queue (bytes oldest first, and whether each came from the aux port),
/// status, command byte, output port, the controller command awaiting its argument, the
/// keyboard command awaiting its argument, the scan set and the last byte read from 0x60.
/// </summary>
public sealed record I8042State(
    byte[] OutputBytes, bool[] OutputFromAux, byte Status, byte Mode, byte OutputPort, byte PendingCommand, byte KeyboardCommand, byte ScanSet, byte LastRead) : DeviceState;
