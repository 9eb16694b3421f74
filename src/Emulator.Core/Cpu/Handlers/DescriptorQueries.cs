using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// LAR, LSL, VERR and VERW (Intel SDM Vol. 2), exactly as QEMU 7.2 executes them
/// (target/i386/tcg/seg_helper.c, helper_lar/lsl/verr/verw; translate.c, 0F 00 and 0F 02/03;
/// docs/cpu-segments.md): #UD outside protected mode; otherwise a null selector, one past its
/// table's limit, or a descriptor the rules refuse clears ZF and leaves the destination alone,
/// and an accepted one sets ZF (LAR/LSL write the attributes or the limit, as 16 bits or as 32
/// bits zero-extended — QEMU uses 32 for REX.W too). No other flag changes. The system types
/// accepted are QEMU's, the same in every mode: LSL 1, 2, 3, 9, 11; LAR those and 4, 5, 12.
/// </summary>
internal static unsafe partial class Handlers
{
    private const ushort LslSystemTypes = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 11);
    private const ushort LarSystemTypes = LslSystemTypes | (1 << 4) | (1 << 5) | (1 << 12);

    private static void RegisterDescriptorQueries(HandlerRegistry r)
    {
        r.Add(Mnemonic.Lar, &Lar);
        r.Add(Mnemonic.Lsl, &Lsl);
        r.Add(Mnemonic.Verr, &Verr);
        r.Add(Mnemonic.Verw, &Verw);
    }

    private static void Lar(Cpu cpu, ref DecodedOp op) =>
        WriteIfAccessible(cpu, ref op, LarSystemTypes, desc => (uint)(desc >> 32) & 0x00F0FF00);

    private static void Lsl(Cpu cpu, ref DecodedOp op) =>
        WriteIfAccessible(cpu, ref op, LslSystemTypes, Cpu.DescriptorLimit);

    private static void Verr(Cpu cpu, ref DecodedOp op) => VerifySegment(cpu, ref op, write: false);

    private static void Verw(Cpu cpu, ref DecodedOp op) => VerifySegment(cpu, ref op, write: true);

    private static void WriteIfAccessible(Cpu cpu, ref DecodedOp op, ushort systemTypes, Func<ulong, uint> result)
    {
        ushort selector = QueriedSelector(cpu, ref op, 1);
        ulong desc = 0;
        bool ok = (selector & 0xFFFC) != 0 && cpu.TryReadDescriptor(selector, out desc) && Queryable(cpu, selector, desc, systemTypes);
        if (ok)
        {
            cpu.WriteGpr(op.Reg0, op.OpSize == 2 ? 2 : 4, result(desc));
        }

        cpu.SetFlag(RFlags.ZF, ok);
    }

    /// <summary>Segment descriptors: conforming code always, the rest only at DPL ≥ max(CPL, RPL); system descriptors: the listed types at that DPL.</summary>
    private static bool Queryable(Cpu cpu, ushort selector, ulong desc, ushort systemTypes)
    {
        uint attr = Cpu.DescriptorAttributes(desc);
        bool privileged = Dpl(attr) >= cpu._cpl && Dpl(attr) >= (selector & 3);
        if ((attr & 0x1000) != 0)
        {
            return IsConformingCode(attr) || privileged;
        }

        return (systemTypes & (1 << (int)((attr >> 8) & 0xF))) != 0 && privileged;
    }

    private static void VerifySegment(Cpu cpu, ref DecodedOp op, bool write)
    {
        ushort selector = QueriedSelector(cpu, ref op, 0);
        bool ok = false;
        if ((selector & 0xFFFC) != 0 && cpu.TryReadDescriptor(selector, out ulong desc))
        {
            uint attr = Cpu.DescriptorAttributes(desc);
            bool code = (attr & 0x800) != 0, readableOrWritable = (attr & 0x200) != 0;
            bool privileged = Dpl(attr) >= cpu._cpl && Dpl(attr) >= (selector & 3);
            ok = (attr & 0x1000) != 0 && (write
                ? !code && privileged && readableOrWritable
                : code ? readableOrWritable && (IsConformingCode(attr) || privileged) : privileged);
        }

        cpu.SetFlag(RFlags.ZF, ok);
    }

    private static ushort QueriedSelector(Cpu cpu, ref DecodedOp op, int operand)
    {
        if (!InProtectedMode(cpu))
        {
            throw new GuestFault(Vector.UD);
        }

        return (ushort)(operand == 0 ? cpu.ReadOp0(ref op, 2) : cpu.ReadOp1(ref op, 2));
    }

    private static int Dpl(uint attr) => (int)((attr >> 13) & 3);

    private static bool IsConformingCode(uint attr) => (attr & 0xC00) == 0xC00;
}
