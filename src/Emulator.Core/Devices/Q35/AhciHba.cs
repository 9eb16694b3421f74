// The AHCI host bus adapter registers (ABAR, 4 KiB of memory) of QEMU 7.2's ICH9 AHCI function
// (hw/ide/ahci.c ahci_mem_read_32, ahci_mem_read, ahci_mem_write, ahci_reset, ahci_check_irq;
// constants in hw/ide/ahci_internal.h). Six ports (QEMU's ich9-ahci), each an AhciPort with its
// registers, command engine and drive.
// Emulated: CAP 0xC0141F05 (6 ports, 32 command slots, Gen1, NCQ, AHCI-only, 64-bit), GHC
// (AE always set, IE and HR: HR resets the HBA and every port and reads 0 at once), IS
// (write-1-to-clear, recomputed from every port's PxIS & PxIE), PI 0x3F, VS 0x00010000, other
// host registers (CCC, EM, CAP2, BOHC) reading 0 and ignoring writes, as in QEMU; the port
// registers at 0x100 + 0x80 per port (AhciPort). The HBA interrupt is IS != 0 with GHC.IE: an
// MSI when the function's MSI is enabled, else its INTx line (Ich9Ahci).
// Byte and word reads return the bytes of the containing dword(s); unaligned writes are dropped.
// Not emulated: hot plug, CCC, enclosure management (QEMU has none either).
// Firmware relies on: OVMF's AtaAtapiPassThruDxe resets the HBA (GHC.HR), reads CAP and PI, sets
// up CLB/FB, sets FRE and ST, polls PxSSTS.DET for a device for 15 ms per port, and drives the
// ports it finds through command lists, polling the received FIS area.
using Emulator.Core.Devices.Ide;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.Q35;

/// <summary>The ABAR registers of a six-port AHCI HBA.</summary>
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

    private readonly Action _interruptChanged;
    private readonly AhciPort[] _ports;
    private uint _ghc = GhcAhciEnable;
    private uint _interruptStatus;

    /// <param name="memory">Guest memory: command lists, tables, PRDT buffers, received FISes.</param>
    /// <param name="interruptChanged">Told after anything that may change <see cref="InterruptPending"/>.</param>
    /// <param name="drives">The drives, index N on port N (QEMU -drive if=ide,index=N on q35), each validated for the six ports.</param>
    public AhciHba(Memory.PhysicalBus memory, Action interruptChanged, IReadOnlyList<IdeDrive>? drives = null)
    {
        Memory = memory;
        _interruptChanged = interruptChanged;
        drives ??= [];
        ValidateDrives(drives);

        _ports = [.. Enumerable.Range(0, PortCount).Select(i => new AhciPort(this, i, drives.FirstOrDefault(d => d.Index == i)))];
        foreach (var port in _ports)
        {
            port.PowerOnReset();
        }
    }

    public string Name => "ahci";

    /// <summary>QEMU's ahci_mem_ops declare nothing: handlers of 1–4 bytes.</summary>
    public AccessSizes Sizes => AccessSizes.QemuDefault;

    /// <summary>IS has a bit set and GHC.IE is on (ahci_check_irq's raise condition).</summary>
    public bool InterruptPending => _interruptStatus != 0 && (_ghc & GhcInterruptEnable) != 0;

    /// <summary>The IDE device behind each port, null where there is no drive.</summary>
    public IReadOnlyList<IdeDevice?> Devices => [.. _ports.Select(p => p.Device)];

    internal Memory.PhysicalBus Memory { get; }

    /// <summary>
    /// QEMU's refusals for <c>-drive if=ide,index=N</c> on q35 (ich9-ahci's six ports, one unit
    /// each: pc_q35.c creates the AHCI buses with max_ports 6 and one device per bus), then
    /// the drive's own (<see cref="IdeDrive.ValidateSet"/>).
    /// </summary>
    public static void ValidateDrives(IReadOnlyList<IdeDrive> drives) =>
        IdeDrive.ValidateSet(drives, PortCount, $"q35's AHCI drives are numbered 0 to {PortCount - 1} (one per port)", "drive");

    /// <summary>Machine reset (pci_ich9_reset → ahci_reset): the HBA and every port as at power-on; the drives' media stay.</summary>
    public void Reset()
    {
        _ghc = GhcAhciEnable;
        _interruptStatus = 0;
        foreach (var port in _ports)
        {
            port.PowerOnReset();
        }

        _interruptChanged();
    }

    public AhciState Save() => new(_ghc, _interruptStatus, [.. _ports.Select(p => p.Save())]);

    public void Restore(AhciState state)
    {
        if (state.Ports.Length != PortCount)
        {
            throw new ArgumentException($"the AHCI record has {state.Ports.Length} ports, the HBA {PortCount}");
        }

        (_ghc, _interruptStatus) = (state.Ghc, state.InterruptStatus);
        for (int i = 0; i < PortCount; i++)
        {
            _ports[i].Restore(state.Ports[i]);
        }
    }

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
            _ports[port].WriteRegister((int)(offset - PortRegistersStart) % PortRegistersSize / 4, v);
        }
    }

    /// <summary>ahci_check_irq: IS recomputed from every port's PxIS & PxIE.</summary>
    internal void CheckInterrupt()
    {
        uint status = 0;
        for (int i = 0; i < PortCount; i++)
        {
            if ((_ports[i].Regs.InterruptStatus & _ports[i].Regs.InterruptEnable) != 0)
            {
                status |= 1u << i;
            }
        }

        _interruptStatus = status;
        _interruptChanged();
    }

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
                1 => _ghc,
                2 => _interruptStatus,
                3 => (1u << PortCount) - 1,
                4 => Version,
                _ => 0,
            };
        }

        return PortOf(offset) is { } port ? _ports[port].ReadRegister((int)(offset - PortRegistersStart) % PortRegistersSize / 4) : 0;
    }

    private void WriteHost(int offset, uint value)
    {
        switch (offset / 4)
        {
            case 1 when (value & GhcReset) != 0:
                ResetHba();
                return;
            case 1:
                _ghc = (value & 0x3) | GhcAhciEnable;
                break;
            case 2:
                _interruptStatus &= ~value;
                break;
            default:
                return;
        }

        CheckInterrupt();
    }

    /// <summary>GHC.HR (ahci_reset): IS, then every port's PxIS, PxIE, PxSCTL and PxCMD (SUD | POD) and the port reset; the CLB/FB bases and PxCI stay.</summary>
    private void ResetHba()
    {
        _interruptStatus = 0;
        _ghc = GhcAhciEnable;
        foreach (var p in _ports)
        {
            p.HbaReset();
        }

        _interruptChanged();
    }
}

/// <summary>GHC, IS and the ports (QEMU vmstate "ahci").</summary>
public sealed record AhciState(uint Ghc, uint InterruptStatus, AhciPortState[] Ports);
