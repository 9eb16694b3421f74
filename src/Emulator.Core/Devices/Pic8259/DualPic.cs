// The PC/AT pair of 8259A PICs as integrated in the PIIX3 (Intel 82371SB datasheet §2.6):
// master at 0x20/0x21, slave at 0xA0/0xA1 cascaded on master IRQ 2, ELCR at 0x4D0/0x4D1.
// Emulated: ISA IRQ 0–15 inputs, cascade, the INTR output line (for LINT0 of the local APIC
// or the CPU), interrupt acknowledge as an IInterruptController (spurious IRQ 7/15 when
// nothing is pending at acknowledge time, as QEMU's pic_read_irq).
// Not emulated: see Pic.
// Firmware relies on: OVMF masks both PICs (0xFF) and never unmasks them.
using Emulator.Core.Cpu;

namespace Emulator.Core.Devices.Pic8259;

/// <summary>Master and slave 8259A, cascaded; the CPU-facing interrupt controller of a legacy PC.</summary>
public sealed class DualPic : IInterruptController, IDevice
{
    public const ushort MasterBasePort = 0x20;
    public const ushort SlaveBasePort = 0xA0;
    public const int IrqCount = 16;
    public const byte MasterElcrMask = 0xF8;
    public const byte SlaveElcrMask = 0xDE;

    private const int IrqsPerChip = 8;
    private const int SpuriousIrq = 7;

    public DualPic()
    {
        Master = new Pic(true, MasterElcrMask) { Changed = Update };
        Slave = new Pic(false, SlaveElcrMask) { Changed = Update };
    }

    public string Name => "pic";

    /// <summary>The INTR output to the CPU, set when its level changes.</summary>
    public OutputLine Intr { get; } = new("pic.intr");

    /// <summary>Register for <see cref="Pic.PortCount"/> ports at <see cref="MasterBasePort"/>.</summary>
    public Pic Master { get; }

    /// <summary>Register for <see cref="Pic.PortCount"/> ports at <see cref="SlaveBasePort"/>.</summary>
    public Pic Slave { get; }

    public bool HasPendingInterrupt => Master.HighestPending() >= 0;

    /// <summary>Machine reset (QEMU pic_reset on both chips, ELCR cleared).</summary>
    public void Reset()
    {
        Master.Reset();
        Slave.Reset();
        Update();
    }

    public DeviceState SaveState() => new DualPicState((PicState)Master.SaveState(), (PicState)Slave.SaveState(), Intr.Level);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<DualPicState>(state, this);
        Master.RestoreState(s.Master);
        Slave.RestoreState(s.Slave);
        Intr.Restore(s.Intr);
    }

    /// <summary>Sets the level of ISA IRQ <paramref name="irq"/> (0–15); edge inputs latch on the rising edge.</summary>
    public void SetIrq(int irq, bool level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(irq);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(irq, IrqCount);
        if (irq >= IrqsPerChip)
        {
            Slave.SetIrq(irq - IrqsPerChip, level);
        }
        else
        {
            Master.SetIrq(irq, level);
        }

        Update();
    }

    public int Acknowledge()
    {
        int irq = Master.HighestPending();
        int vector;
        if (irq < 0)
        {
            vector = Master.VectorBase + SpuriousIrq;
        }
        else
        {
            Master.Acknowledge(irq);
            if (irq == Pic.CascadeIrq)
            {
                int slaveIrq = Slave.HighestPending();
                if (slaveIrq >= 0)
                {
                    Slave.Acknowledge(slaveIrq);
                }
                else
                {
                    slaveIrq = SpuriousIrq;
                }

                vector = Slave.VectorBase + slaveIrq;
            }
            else
            {
                vector = Master.VectorBase + irq;
            }
        }

        Update();
        return vector;
    }

    private void Update()
    {
        Master.SetIrq(Pic.CascadeIrq, Slave.HighestPending() >= 0);
        bool output = Master.HighestPending() >= 0;
        if (output != Intr.Level)
        {
            Intr.Set(output);
        }
    }
}

/// <summary>Both 8259s and the INTR level.</summary>
public sealed record DualPicState(PicState Master, PicState Slave, bool Intr) : DeviceState;
