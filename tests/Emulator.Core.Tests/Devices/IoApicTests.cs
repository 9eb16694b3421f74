using Emulator.Core.Devices.IoApic;
using Emulator.Core.Devices.LocalApic;
using Emulator.Core.Memory;
using Emulator.Core.Timing;

namespace Emulator.Core.Tests.Devices;

/// <summary>
/// The I/O APIC through its MMIO window, delivering to a local APIC on the same bus. Expected
/// register values were read from QEMU 7.2's pc machine with qtest (docs/ioapic-hpet.md).
/// </summary>
[Trait("Category", "Unit")]
public sealed class IoApicTests : IDisposable
{
    private const ulong Base = IoApic.DefaultBase;
    private const ulong Lapic = Xapic.DefaultBase;
    private readonly PhysicalBus _bus = new();
    private readonly Scheduler _scheduler = new();
    private readonly Xapic _apic;
    private readonly IoApic _ioApic;
    private readonly List<InterruptMessage> _messages = [];
    private readonly int _picVector = 0x68;
    private int _nmis;
    private long _now;

    public IoApicTests()
    {
        _apic = new Xapic(_scheduler, () => _now, 1, 1);
        _ioApic = new IoApic(
            m =>
            {
                _messages.Add(m);
                _apic.Accept(m);
            },
            () => _picVector,
            _scheduler,
            () => _now);
        _apic.LevelTriggeredEoi = _ioApic.EndOfInterrupt;
        _apic.NmiRaised = () => _nmis++;
        _bus.MapMmio("lapic", Lapic, Xapic.Size, _apic);
        _bus.MapMmio("ioapic", Base, IoApic.Size, _ioApic);
        _bus.Write(Lapic + 0xF0, 4, 0x1FF);
    }

    public void Dispose() => _bus.Dispose();

    [Fact]
    public void ResetValuesMatchQemu()
    {
        Assert.Equal(0x0000_0000u, Indexed(0x00));
        Assert.Equal(0x0017_0020u, Indexed(0x01));
        Assert.Equal(0x0000_0000u, Indexed(0x02));
        for (uint pin = 0; pin < 24; pin++)
        {
            Assert.Equal(0x0001_0000u, Indexed(0x10 + (2 * pin)));
            Assert.Equal(0u, Indexed(0x11 + (2 * pin)));
        }

        Assert.Equal(0u, Indexed(0x40));
        Assert.Equal(0x40u, (uint)_bus.Read(Base, 4));
    }

    [Fact]
    public void WritableBitsAndAccessSizesMatchQemu()
    {
        SetIndexed(0x00, 0xFFFF_FFFF);
        Assert.Equal(0x0F00_0000u, Indexed(0x00));
        Assert.Equal(0x0F00_0000u, Indexed(0x02));
        SetIndexed(0x01, 0);
        Assert.Equal(0x0017_0020u, Indexed(0x01));

        // Delivery status (12) and Remote IRR (14) are read-only; the rest is stored.
        SetIndexed(0x10, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_AFFFu, Indexed(0x10));
        SetIndexed(0x11, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFFFu, Indexed(0x11));

        // IOWIN only answers dword accesses; IOREGSEL any size; the block repeats every 256 bytes.
        _bus.Write(Base, 1, 0x01);
        Assert.Equal(0u, (uint)_bus.Read(Base + 0x10, 2));
        Assert.Equal(0x01u, (uint)_bus.Read(Base, 1));
        Assert.Equal(0x0017_0020u, (uint)_bus.Read(Base + 0x110, 4));
        Assert.Equal(0x01u, (uint)_bus.Read(Base + 0x100, 4));
    }

    [Fact]
    public void EdgeInputDeliversOncePerRisingLevelAndIgnoresMaskedPins()
    {
        SetEntry(4, 0x41);
        _ioApic.SetPin(4, true);
        Assert.Equal(0x41, _apic.Acknowledge());
        Assert.Equal(0u, Lapic32(0x180 + 0x20) & (1u << 1));
        _ioApic.SetPin(4, true);
        Assert.Single(_messages);
        _ioApic.SetPin(4, false);
        _ioApic.SetPin(4, true);
        Assert.Equal(2, _messages.Count);

        // A masked edge pin drops the edge: unmasking later sends nothing.
        SetEntry(5, 0x45 | 0x1_0000);
        _ioApic.SetPin(5, true);
        SetEntry(5, 0x45);
        Assert.Equal(2, _messages.Count);
        Assert.Equal(new InterruptMessage(0, false, ApicDeliveryMode.Fixed, 0x41, false), _messages[0]);
    }

    [Fact]
    public void LevelInputHoldsRemoteIrrUntilTheLocalApicEoi()
    {
        SetEntry(9, 0x59 | 0x8000);
        _ioApic.SetPin(9, true);
        Assert.Single(_messages);
        Assert.Equal(0x4000u, Indexed(0x10 + 18) & 0x4000);
        Assert.Equal(1u << (0x59 - 0x40), Lapic32(0x180 + 0x20));

        Assert.Equal(0x59, _apic.Acknowledge());
        _ioApic.SetPin(9, true);
        Assert.Single(_messages);

        // EOI of a level-triggered vector is broadcast: Remote IRR clears, the line is still
        // high, so the I/O APIC sends again.
        _bus.Write(Lapic + 0xB0, 4, 0);
        Assert.Equal(2, _messages.Count);
        Assert.Equal(0x59, _apic.Acknowledge());

        _ioApic.SetPin(9, false);
        _bus.Write(Lapic + 0xB0, 4, 0);
        Assert.Equal(0u, Indexed(0x10 + 18) & 0x4000);
        Assert.Equal(2, _messages.Count);
        Assert.False(_apic.HasPendingInterrupt);
    }

    [Fact]
    public void EoiRegisterEndsRemoteIrrAndEdgeModeClearsIt()
    {
        SetEntry(10, 0x5A | 0x8000);
        _ioApic.SetPin(10, true);
        _ioApic.SetPin(10, false);
        Assert.Equal(0x4000u, Indexed(0x10 + 20) & 0x4000);
        _bus.Write(Base + 0x40, 4, 0x5B);
        Assert.Equal(0x4000u, Indexed(0x10 + 20) & 0x4000);
        _bus.Write(Base + 0x40, 4, 0x5A);
        Assert.Equal(0u, Indexed(0x10 + 20) & 0x4000);

        _ioApic.SetPin(10, true);
        Assert.Equal(0x4000u, Indexed(0x10 + 20) & 0x4000);
        SetEntry(10, 0x5A);
        Assert.Equal(0u, Indexed(0x10 + 20) & 0x4000);
    }

    [Fact]
    public void LevelLineRaisedWhileMaskedIsSentWhenUnmasked()
    {
        SetEntry(11, 0x5B | 0x8000 | 0x1_0000);
        _ioApic.SetPin(11, true);
        Assert.Empty(_messages);
        SetEntry(11, 0x5B | 0x8000);
        Assert.Single(_messages);
        Assert.True(_messages[0].LevelTriggered);
    }

    [Fact]
    public void DestinationSelectsTheLocalApicAndModesAreCarried()
    {
        SetEntry(3, 0x43, destination: 1);
        _ioApic.SetPin(3, true);
        Assert.False(_apic.HasPendingInterrupt);

        // Logical, flat model: LDR 0x01000000 matches destination bit 0.
        _bus.Write(Lapic + 0xD0, 4, 0x0100_0000);
        SetEntry(6, 0x46 | 0x800 | 0x100, destination: 0x03);
        _ioApic.SetPin(6, true);
        Assert.Equal(0x46, _apic.Acknowledge());

        // ExtINT takes its vector from the 8259 pair; NMI goes to the CPU's NMI input.
        SetEntry(7, 0x700);
        _ioApic.SetPin(7, true);
        Assert.Equal(0x68, _apic.Acknowledge());
        SetEntry(8, 0x400);
        _ioApic.SetPin(8, true);
        Assert.Equal(1, _nmis);
        Assert.False(_apic.HasPendingInterrupt);
        Assert.Equal(ApicDeliveryMode.LowestPriority, _messages[1].DeliveryMode);
    }

    [Fact]
    public void InterruptStormDefersTheNextSendByTenMilliseconds()
    {
        SetEntry(12, 0x5C | 0x8000);
        _ioApic.SetPin(12, true);
        for (int i = 1; i < IoApic.InterruptStormCount; i++)
        {
            _ioApic.EndOfInterrupt(0x5C);
        }

        Assert.Equal(IoApic.InterruptStormCount, _messages.Count);
        _ioApic.EndOfInterrupt(0x5C);
        Assert.Equal(IoApic.InterruptStormCount, _messages.Count);
        Assert.Equal(10_000_000L, _scheduler.NextDeadline);
        _now = 10_000_000;
        _scheduler.RunDue(_now);
        Assert.Equal(IoApic.InterruptStormCount + 1, _messages.Count);
    }

    [Fact]
    public void StateRoundTripsAndResetRestoresPowerOn()
    {
        SetIndexed(0x00, 0x0200_0000);
        SetEntry(13, 0x5D | 0x8000, destination: 0);
        _ioApic.SetPin(13, true);
        var saved = (IoApicState)_ioApic.SaveState();
        _ioApic.Reset();
        Assert.Equal(0u, Indexed(0x00));
        Assert.Equal(0x1_0000u, Indexed(0x10 + 26));
        _ioApic.RestoreState(saved);
        var again = (IoApicState)_ioApic.SaveState();
        Assert.Equal(saved.Entries, again.Entries);
        Assert.Equal((saved.Id, saved.Select, saved.Irr, saved.DeferredServiceAt), (again.Id, again.Select, again.Irr, again.DeferredServiceAt));
        Assert.Equal(0x0200_0000u, Indexed(0x00));
        Assert.Equal(0x5Du | 0x8000 | 0x4000, Indexed(0x10 + 26));
    }

    private void SetEntry(int pin, uint low, byte destination = 0)
    {
        SetIndexed((uint)(0x11 + (2 * pin)), (uint)destination << 24);
        SetIndexed((uint)(0x10 + (2 * pin)), low);
    }

    private uint Indexed(uint index)
    {
        _bus.Write(Base, 4, index);
        return (uint)_bus.Read(Base + 0x10, 4);
    }

    private void SetIndexed(uint index, uint value)
    {
        _bus.Write(Base, 4, index);
        _bus.Write(Base + 0x10, 4, value);
    }

    private uint Lapic32(ulong offset) => (uint)_bus.Read(Lapic + offset, 4);
}
