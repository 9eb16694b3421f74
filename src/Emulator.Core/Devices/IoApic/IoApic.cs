// I/O APIC (Intel 82093AA datasheet) as QEMU 7.2's hw/intc/ioapic.c and ioapic_common.c model
// it for the "pc" machine (docs/ioapic-hpet.md). Address: 4 KiB of MMIO at 0xFEC00000; only
// the low 8 bits of the offset decode (QEMU masks addr & 0xFF), so the 256-byte register block
// repeats through the page.
// Emulated: IOREGSEL (0x00, any access size, 8 bits kept) and IOWIN (0x10, 32-bit accesses only:
// other sizes read 0 and write nothing), the EOI register at 0x40 of version 0x20 (a 32-bit
// write of a vector ends Remote IRR like a local APIC EOI broadcast), and through IOWIN the ID
// register (index 0, bits 24–27 writable, reset 0), the version register (index 1, 0x00170020:
// version 0x20, 24 entries), the arbitration register (index 2, reads as the ID) and 24
// redirection entries (indexes 0x10–0x3F, low then high dword; reset: only the mask bit set).
// Every entry bit is writable except Delivery Status (always 0) and Remote IRR (QEMU
// IOAPIC_RO_BITS); making an entry edge-triggered clears its Remote IRR. Inputs: an edge input
// latches into IRR on a rising edge while its entry is unmasked (the datasheet ignores edges on
// masked pins; QEMU takes every raise call as an edge, and the machine's sources report only
// changes, so the two agree); a level input follows the line into IRR whatever the mask. Service, as QEMU
// ioapic_service after every input change and entry write: each unmasked pin with IRR set sends
// its message to the local APIC — an edge pin clears IRR, a level pin sets Remote IRR and sends
// nothing more until an EOI for its vector clears Remote IRR (the local APIC's broadcast for a
// level-triggered vector, or the EOI register), after which a still-asserted line is sent
// again. ExtINT entries take their vector from the 8259 (QEMU pic_read_irq, which acknowledges
// it). An EOI that re-sends a still-asserted line 10,000 times in a row defers the next send by
// 10 ms of virtual time (QEMU's interrupt-storm guard, SUCCESSIVE_IRQ_MAX_COUNT).
// Not emulated: polarity (bit 13 is stored; inputs are active-high, as in QEMU), the reserved
// bits 48–55 (stored, not sent), delivery to more than the one local APIC, interrupt remapping.
// Firmware relies on: nothing — OVMF leaves the I/O APIC at its reset state (every entry
// masked); the ACPI MADT QEMU builds describes it, so operating systems program it.
using Emulator.Core.Devices.LocalApic;
using Emulator.Core.Memory;
using Emulator.Core.Timing;

namespace Emulator.Core.Devices.IoApic;

/// <summary>The 24-pin I/O APIC of QEMU's "pc" machine.</summary>
public sealed class IoApic : IMmioDevice, IDevice
{
    public const ulong DefaultBase = 0xFEC0_0000;
    public const ulong Size = 0x1000;
    public const int PinCount = 24;
    public const byte Version = 0x20;

    public const int SelectRegister = 0x00;
    public const int WindowRegister = 0x10;
    public const int EoiRegister = 0x40;

    public const int IdIndex = 0x00;
    public const int VersionIndex = 0x01;
    public const int ArbitrationIndex = 0x02;
    public const int RedirectionBaseIndex = 0x10;

    public const int IdShift = 24;
    public const uint IdMask = 0xF;
    public const int MaxEntryShift = 16;

    public const ulong VectorMask = 0xFF;
    public const int DeliveryModeShift = 8;
    public const ulong DeliveryModeMask = 0x7;
    public const ulong LogicalDestination = 1UL << 11;
    public const ulong DeliveryStatus = 1UL << 12;
    public const ulong RemoteIrr = 1UL << 14;
    public const ulong LevelTriggered = 1UL << 15;
    public const ulong Masked = 1UL << 16;
    public const int DestinationShift = 56;
    public const ulong ReadOnlyBits = RemoteIrr | DeliveryStatus;

    /// <summary>QEMU SUCCESSIVE_IRQ_MAX_COUNT: EOIs that re-send a still-asserted line before the next send waits.</summary>
    public const int InterruptStormCount = 10_000;

    /// <summary>The storm guard's delay: QEMU's NANOSECONDS_PER_SECOND / 100, in scheduler ticks (nanoseconds).</summary>
    public const long InterruptStormDelay = 10_000_000;

    private const ulong OffsetMask = 0xFF;
    private const int DwordSize = 4;
    private const int DwordBits = 32;

    private readonly ulong[] _entries = new ulong[PinCount];
    private readonly int[] _successiveEois = new int[PinCount];
    private readonly Action<InterruptMessage> _deliver;
    private readonly Func<int> _acknowledgeExtInt;
    private readonly Scheduler _scheduler;
    private readonly Func<long> _now;
    private byte _id;
    private byte _select;
    private uint _irr;
    private uint _levels;
    private TimerEvent? _deferredService;

    /// <param name="deliver">Sends a message to the local APIC (the machine also tells the CPU to look).</param>
    /// <param name="acknowledgeExtInt">Acknowledges the 8259 pair and returns its vector, for ExtINT entries.</param>
    /// <param name="scheduler">Where the interrupt-storm guard's deferred send goes.</param>
    /// <param name="now">The current virtual time in scheduler ticks (nanoseconds).</param>
    public IoApic(Action<InterruptMessage> deliver, Func<int> acknowledgeExtInt, Scheduler scheduler, Func<long> now)
    {
        _deliver = deliver;
        _acknowledgeExtInt = acknowledgeExtInt;
        _scheduler = scheduler;
        _now = now;
        Array.Fill(_entries, Masked);
    }

    public string Name => "ioapic";

    /// <summary>QEMU's ioapic_io_ops declare no sizes: the defaults, so the bus splits an 8-byte access into two dwords, low first.</summary>
    public AccessSizes Sizes => AccessSizes.QemuDefault;

    /// <summary>
    /// Machine reset (QEMU ioapic_reset_common): ID 0, IOREGSEL 0, IRR clear, every entry masked.
    /// The input levels are the wires' and stay as the devices drive them.
    /// </summary>
    public void Reset()
    {
        CancelDeferredService();
        _id = 0;
        _select = 0;
        _irr = 0;
        Array.Fill(_entries, Masked);
        Array.Clear(_successiveEois);
    }

    /// <summary>Sets the level of input <paramref name="pin"/> (0–23), QEMU ioapic_set_irq after the board's ISA remap.</summary>
    public void SetPin(int pin, bool level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pin);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pin, PinCount);
        uint mask = 1u << pin;
        bool rising = level && (_levels & mask) == 0;
        _levels = level ? _levels | mask : _levels & ~mask;
        ulong entry = _entries[pin];
        if ((entry & LevelTriggered) != 0)
        {
            if (!level)
            {
                _irr &= ~mask;
                return;
            }

            _irr |= mask;
            if ((entry & RemoteIrr) == 0)
            {
                Service();
            }
        }
        else if (rising && (entry & Masked) == 0)
        {
            _irr |= mask;
            Service();
        }
    }

    /// <summary>
    /// An EOI for <paramref name="vector"/> (QEMU ioapic_eoi_broadcast): every level-triggered
    /// entry with that vector and Remote IRR set clears Remote IRR, and a line still asserted on
    /// an unmasked entry is sent again.
    /// </summary>
    public void EndOfInterrupt(int vector)
    {
        for (int pin = 0; pin < PinCount; pin++)
        {
            ulong entry = _entries[pin];
            if ((int)(entry & VectorMask) != vector || (entry & LevelTriggered) == 0 || (entry & RemoteIrr) == 0)
            {
                continue;
            }

            _entries[pin] = entry & ~RemoteIrr;
            if ((entry & Masked) != 0 || (_irr & (1u << pin)) == 0)
            {
                _successiveEois[pin] = 0;
            }
            else if (++_successiveEois[pin] >= InterruptStormCount)
            {
                _successiveEois[pin] = 0;
                DeferService(_now() + InterruptStormDelay);
            }
            else
            {
                Service();
            }
        }
    }

    public ulong Read(ulong offset, int size)
    {
        return (offset & OffsetMask) switch
        {
            SelectRegister => _select,
            WindowRegister when size == DwordSize => ReadIndexed(),
            _ => 0,
        };
    }

    public void Write(ulong offset, int size, ulong value)
    {
        switch (offset & OffsetMask)
        {
            case SelectRegister:
                _select = (byte)value;
                break;
            case WindowRegister when size == DwordSize:
                WriteIndexed((uint)value);
                break;
            case EoiRegister when size == DwordSize:
                EndOfInterrupt((int)(uint)value);
                break;
        }
    }

    /// <summary>The state a snapshot keeps (QEMU's vmstate "ioapic" plus the storm guard).</summary>
    public DeviceState SaveState() =>
        new IoApicState(_id, _select, _irr, _levels, [.. _entries], [.. _successiveEois], _deferredService?.When);

    /// <summary>Restores the registers and input levels as recorded and re-arms a deferred send; nothing is sent now.</summary>
    public void RestoreState(DeviceState saved)
    {
        var state = DeviceState.Expect<IoApicState>(saved, this);
        CancelDeferredService();
        _id = state.Id;
        _select = state.Select;
        _irr = state.Irr;
        _levels = state.Levels;
        state.Entries.CopyTo(_entries);
        state.SuccessiveEois.CopyTo(_successiveEois);
        if (state.DeferredServiceAt is { } when)
        {
            DeferService(when);
        }
    }

    private uint ReadIndexed()
    {
        switch (_select)
        {
            case IdIndex:
            case ArbitrationIndex:
                return (uint)_id << IdShift;
            case VersionIndex:
                return Version | ((PinCount - 1) << MaxEntryShift);
        }

        int pin = (_select - RedirectionBaseIndex) >> 1;
        if (pin < 0 || pin >= PinCount)
        {
            return 0;
        }

        return (_select & 1) != 0 ? (uint)(_entries[pin] >> DwordBits) : (uint)_entries[pin];
    }

    private void WriteIndexed(uint value)
    {
        switch (_select)
        {
            case IdIndex:
                _id = (byte)((value >> IdShift) & IdMask);
                return;
            case VersionIndex:
            case ArbitrationIndex:
                return;
        }

        int pin = (_select - RedirectionBaseIndex) >> 1;
        if (pin < 0 || pin >= PinCount)
        {
            return;
        }

        ulong old = _entries[pin];
        ulong entry = (_select & 1) != 0
            ? (old & uint.MaxValue) | ((ulong)value << DwordBits)
            : (old & ~(ulong)uint.MaxValue) | value;
        entry = (entry & ~ReadOnlyBits) | (old & ReadOnlyBits);
        if ((entry & LevelTriggered) == 0)
        {
            // QEMU ioapic_fix_edge_remote_irr: an edge entry has no Remote IRR (Linux's EOI
            // emulation for I/O APICs without an EOI register relies on it).
            entry &= ~RemoteIrr;
        }

        _entries[pin] = entry;
        _successiveEois[pin] = 0;
        Service();
    }

    /// <summary>QEMU ioapic_service: sends every unmasked pending pin, edge pins once, level pins until EOI.</summary>
    private void Service()
    {
        for (int pin = 0; pin < PinCount; pin++)
        {
            uint mask = 1u << pin;
            ulong entry = _entries[pin];
            if ((_irr & mask) == 0 || (entry & Masked) != 0)
            {
                continue;
            }

            if ((entry & LevelTriggered) == 0)
            {
                _irr &= ~mask;
            }
            else
            {
                _entries[pin] = entry | RemoteIrr;
                if ((entry & RemoteIrr) != 0)
                {
                    // The local APIC is still handling this level-triggered line.
                    continue;
                }
            }

            var mode = (ApicDeliveryMode)((entry >> DeliveryModeShift) & DeliveryModeMask);
            byte vector = mode == ApicDeliveryMode.ExtInt ? (byte)_acknowledgeExtInt() : (byte)(entry & VectorMask);
            _deliver(new InterruptMessage((byte)(entry >> DestinationShift), (entry & LogicalDestination) != 0, mode, vector, (entry & LevelTriggered) != 0));
        }
    }

    /// <summary>QEMU's timer_mod_anticipate: the deferred send moves earlier, never later.</summary>
    private void DeferService(long when)
    {
        if (_deferredService != null)
        {
            if (_deferredService.When <= when)
            {
                return;
            }

            _scheduler.Cancel(_deferredService);
        }

        _deferredService = _scheduler.Schedule(when, _ =>
        {
            _deferredService = null;
            Service();
        });
    }

    private void CancelDeferredService()
    {
        if (_deferredService != null)
        {
            _scheduler.Cancel(_deferredService);
            _deferredService = null;
        }
    }
}
