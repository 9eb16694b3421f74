// The AHCI host bus adapter registers (ABAR, 4 KiB of memory) of QEMU 7.2's ICH9 AHCI function
// with no drives attached (hw/ide/ahci.c ahci_mem_read_32, ahci_mem_write, ahci_port_read,
// ahci_port_write, ahci_reset, ahci_reset_port, ahci_cond_start_engines, ahci_init_d2h,
// ahci_check_irq; constants in hw/ide/ahci_internal.h). Six ports (QEMU's ich9-ahci).
// Emulated: CAP 0xC0141F05 (6 ports, 32 command slots, Gen1, NCQ, AHCI-only, 64-bit), GHC
// (AE always set, IE and HR: HR resets the HBA and reads 0 at once), IS (write-1-to-clear),
// PI 0x3F, VS 0x00010000, other host registers reading 0; per port CLB/CLBU/FB/FBU (storage),
// PxIS (write-1-to-clear), PxIE (mask 0xFDC000FF), PxCMD (read-only bits 0x007DFFE0 kept, ICC
// forced to 0; ST starts the command-list engine, CR follows it, FRE the FIS engine, FR follows
// it — QEMU's dma_memory_map of guest RAM succeeds), PxTFD, PxSIG, PxSSTS (DET 0: no device),
// PxSCTL (DET 1 → 0 resets the port), PxSERR (write-1-to-clear), PxSACT (write-1-to-set), PxCI
// (stored). When FR first turns on, QEMU "receives" the initial D2H register FIS even with no
// drive: 20 bytes at FB + 0x40 with the empty port's task file (status 0x50, the rest 0), PxTFD
// 0x50, PxSIG from the task file, PxIS.DHRS set. The HBA interrupt is IS != 0 with GHC.IE:
// an MSI when the function's MSI is enabled, else its INTx line.
// Byte and word reads return the bytes of the containing dword(s); unaligned writes are dropped.
// Not emulated: command execution (no drive answers; PxCI bits stay set), the ATA task file of a
// drive, hot plug, CCC, enclosure management.
// Firmware relies on: OVMF's AtaAtapiPassThruDxe resets the HBA (GHC.HR), reads CAP and PI, sets
// up CLB/FB, sets FRE, polls PxSSTS.DET for a device for 15 ms per port, and finding none moves on.
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.Q35;

/// <summary>The ABAR registers of a six-port AHCI HBA without drives.</summary>
public sealed class AhciHba : IMmioDevice
{
    public const int PortCount = 6;
    public const int BarSize = 0x1000;
    public const uint Capabilities = (PortCount - 1) | (31 << 8) | (1 << 20) | (1 << 30) | (1 << 18) | (1u << 31);
    public const uint Version = 0x0001_0000;
    public const uint GhcReset = 0x1;
    public const uint GhcInterruptEnable = 0x2;
    public const uint GhcAhciEnable = 0x8000_0000;
    public const int PortRegistersStart = 0x100;
    public const int PortRegistersSize = 0x80;
    public const uint CmdStart = 0x1;
    public const uint CmdSpinUp = 0x2;
    public const uint CmdPowerOn = 0x4;
    public const uint CmdFisReceive = 0x10;
    public const uint CmdFisRunning = 0x4000;
    public const uint CmdListRunning = 0x8000;
    public const uint InterruptD2hRegisterFis = 0x1;
    public const int ReceivedD2hFisOffset = 0x40;
    public const int D2hFisLength = 20;

    private const int HostRegistersEnd = 0x2C;
    private const uint CmdReadOnlyMask = 0x007D_FFE0;
    private const uint CmdIccMask = 0xF000_0000;
    private const uint InterruptMaskWritable = 0xFDC0_00FF;
    private const uint SctlDetMask = 0xF;
    private const byte EmptyPortStatus = 0x50;
    private const byte FisTypeRegisterD2h = 0x34;
    private const byte FisInterruptBit = 0x40;

    private readonly Action<ulong, byte[]> _dmaWrite;
    private readonly Action _interruptChanged;
    private AhciState _state = new(GhcAhciEnable, 0, NewPorts());

    /// <param name="dmaWrite">Writes bytes to guest memory (the received-FIS area).</param>
    /// <param name="interruptChanged">Told after anything that may change <see cref="InterruptPending"/>.</param>
    public AhciHba(Action<ulong, byte[]> dmaWrite, Action interruptChanged)
    {
        _dmaWrite = dmaWrite;
        _interruptChanged = interruptChanged;
    }

    public string Name => "ahci";

    /// <summary>QEMU's ahci_mem_ops declare nothing: handlers of 1–4 bytes.</summary>
    public AccessSizes Sizes => AccessSizes.QemuDefault;

    /// <summary>IS has a bit set and GHC.IE is on (ahci_check_irq's raise condition).</summary>
    public bool InterruptPending => _state.InterruptStatus != 0 && (_state.Ghc & GhcInterruptEnable) != 0;

    /// <summary>Machine reset: the HBA as at power-on.</summary>
    public void Reset()
    {
        _state = new AhciState(GhcAhciEnable, 0, NewPorts());
        _interruptChanged();
    }

    public AhciState Save() => _state with { Ports = [.. _state.Ports.Select(p => p with { })] };

    public void Restore(AhciState state) => _state = state with { Ports = [.. state.Ports.Select(p => p with { })] };

    public ulong Read(ulong offset, int size)
    {
        ulong aligned = offset & ~3UL;
        int shift = (int)(offset - aligned) * 8;
        ulong value = ReadDword(aligned) >> shift;
        if ((int)(offset - aligned) + size > 4)
        {
            value |= (ulong)ReadDword(aligned + 4) << (32 - shift);
        }

        return size >= 8 ? value : value & ((1UL << (8 * size)) - 1);
    }

    public void Write(ulong offset, int size, ulong value)
    {
        if ((offset & 3) != 0)
        {
            return;
        }

        uint v = (uint)value;
        if (offset < HostRegistersEnd)
        {
            WriteHost((int)offset, v);
        }
        else if (PortOf(offset) is { } port)
        {
            WritePort(port, (int)(offset - PortRegistersStart) % PortRegistersSize, v);
        }
    }

    private static AhciPortState[] NewPorts() =>
        [.. Enumerable.Range(0, PortCount).Select(_ => new AhciPortState { Command = CmdSpinUp | CmdPowerOn, TaskFile = 0x7F, Signature = 0xFFFF_FFFF })];

    private static int? PortOf(ulong offset) =>
        offset >= PortRegistersStart && offset < PortRegistersStart + (PortCount * PortRegistersSize)
            ? (int)(offset - PortRegistersStart) / PortRegistersSize
            : null;

    private uint ReadDword(ulong offset)
    {
        if (offset < HostRegistersEnd)
        {
            return (offset / 4) switch
            {
                0 => Capabilities,
                1 => _state.Ghc,
                2 => _state.InterruptStatus,
                3 => (1u << PortCount) - 1,
                4 => Version,
                _ => 0,
            };
        }

        if (PortOf(offset) is not { } port)
        {
            return 0;
        }

        var p = _state.Ports[port];
        return ((int)(offset - PortRegistersStart) % PortRegistersSize / 4) switch
        {
            0 => p.CommandListBase,
            1 => p.CommandListBaseHigh,
            2 => p.FisBase,
            3 => p.FisBaseHigh,
            4 => p.InterruptStatus,
            5 => p.InterruptEnable,
            6 => p.Command,
            8 => p.TaskFile,
            9 => p.Signature,
            10 => 0, // PxSSTS: DET 0, no device
            11 => p.SataControl,
            12 => p.SataError,
            13 => p.SataActive,
            14 => p.CommandIssue,
            _ => 0,
        };
    }

    private void WriteHost(int offset, uint value)
    {
        switch (offset / 4)
        {
            case 1 when (value & GhcReset) != 0:
                ResetHba();
                return;
            case 1:
                _state = _state with { Ghc = (value & 0x3) | GhcAhciEnable };
                break;
            case 2:
                _state = _state with { InterruptStatus = _state.InterruptStatus & ~value };
                break;
            default:
                return;
        }

        CheckInterrupt();
    }

    private void WritePort(int port, int register, uint value)
    {
        var p = _state.Ports[port];
        switch (register / 4)
        {
            case 0: p.CommandListBase = value; break;
            case 1: p.CommandListBaseHigh = value; break;
            case 2: p.FisBase = value; break;
            case 3: p.FisBaseHigh = value; break;
            case 4: p.InterruptStatus &= ~value; CheckInterrupt(); break;
            case 5: p.InterruptEnable = value & InterruptMaskWritable; CheckInterrupt(); break;
            case 6: WriteCommand(port, p, value); break;
            case 11:
                if ((p.SataControl & SctlDetMask) == 1 && (value & SctlDetMask) == 0)
                {
                    ResetPort(p);
                }

                p.SataControl = value;
                break;
            case 12: p.SataError &= ~value; break;
            case 13: p.SataActive |= value; break;
            case 14: p.CommandIssue |= value; break;
        }
    }

    /// <summary>ahci_port_write PxCMD: read-only bits kept, engines follow ST and FRE, the first FIS engine start receives the initial D2H FIS.</summary>
    private void WriteCommand(int port, AhciPortState p, uint value)
    {
        p.Command = (p.Command & CmdReadOnlyMask) | (value & ~(CmdReadOnlyMask | CmdIccMask));
        p.Command = (p.Command & CmdStart) != 0 ? p.Command | CmdListRunning : p.Command & ~CmdListRunning;
        p.Command = (p.Command & CmdFisReceive) != 0 ? p.Command | CmdFisRunning : p.Command & ~CmdFisRunning;
        if ((p.Command & CmdFisRunning) != 0 && !p.InitialFisSent)
        {
            ReceiveInitialFis(p);
        }
    }

    /// <summary>ahci_init_d2h / ahci_write_fis_d2h for an empty port: the reset task file (status READY | SEEK) as a D2H register FIS.</summary>
    private void ReceiveInitialFis(AhciPortState p)
    {
        var fis = new byte[D2hFisLength];
        fis[0] = FisTypeRegisterD2h;
        fis[1] = FisInterruptBit;
        fis[2] = EmptyPortStatus;
        fis[7] = 0xA0;
        ulong fisBase = ((ulong)p.FisBaseHigh << 32) | p.FisBase;
        _dmaWrite(fisBase + ReceivedD2hFisOffset, fis);
        p.TaskFile = EmptyPortStatus;
        p.InitialFisSent = true;
        p.Signature = 0;
        p.InterruptStatus |= InterruptD2hRegisterFis;
        CheckInterrupt();
    }

    /// <summary>GHC.HR (ahci_reset): IS, every port's PxIS, PxIE, PxSCTL and PxCMD (SUD | POD) and the port reset; the CLB/FB bases and PxCI stay.</summary>
    private void ResetHba()
    {
        foreach (var p in _state.Ports)
        {
            p.InterruptStatus = 0;
            p.InterruptEnable = 0;
            p.SataControl = 0;
            p.Command = CmdSpinUp | CmdPowerOn;
            ResetPort(p);
        }

        _state = _state with { Ghc = GhcAhciEnable, InterruptStatus = 0 };
        _interruptChanged();
    }

    /// <summary>ahci_reset_port (no drive): the SATA status registers and the task file back to reset values.</summary>
    private static void ResetPort(AhciPortState p)
    {
        p.SataError = 0;
        p.SataActive = 0;
        p.TaskFile = 0x7F;
        p.Signature = 0xFFFF_FFFF;
        p.InitialFisSent = false;
    }

    /// <summary>ahci_check_irq: IS recomputed from every port's PxIS & PxIE.</summary>
    private void CheckInterrupt()
    {
        uint status = 0;
        for (int i = 0; i < PortCount; i++)
        {
            if ((_state.Ports[i].InterruptStatus & _state.Ports[i].InterruptEnable) != 0)
            {
                status |= 1u << i;
            }
        }

        _state = _state with { InterruptStatus = status };
        _interruptChanged();
    }
}

/// <summary>GHC, IS and the ports (QEMU vmstate "ahci").</summary>
public sealed record AhciState(uint Ghc, uint InterruptStatus, AhciPortState[] Ports);

/// <summary>One port's registers and whether its initial D2H FIS was received (QEMU vmstate "ahci port").</summary>
public sealed record AhciPortState
{
    public uint CommandListBase { get; set; }

    public uint CommandListBaseHigh { get; set; }

    public uint FisBase { get; set; }

    public uint FisBaseHigh { get; set; }

    public uint InterruptStatus { get; set; }

    public uint InterruptEnable { get; set; }

    public uint Command { get; set; }

    public uint TaskFile { get; set; }

    public uint Signature { get; set; }

    public uint SataControl { get; set; }

    public uint SataError { get; set; }

    public uint SataActive { get; set; }

    public uint CommandIssue { get; set; }

    public bool InitialFisSent { get; set; }
}
