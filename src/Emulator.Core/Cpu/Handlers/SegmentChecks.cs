using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// LAR, LSL, VERR, VERW and ARPL as QEMU 7.2 runs them (target/i386/tcg/translate.c cases 0x63,
/// 0x100 /4 /5, 0x102, 0x103; helper_lar, helper_lsl, helper_verr, helper_verw in seg_helper.c):
/// #UD outside protected mode and in virtual-8086 mode; a selector that is null or past the
/// GDT/LDT limit fails (ZF = 0) rather than faulting; only ZF changes. QEMU's accepted system types
/// are the same in long mode as in legacy mode (LSL: 1, 2, 3, 9, 11; LAR also 4, 5, 12).
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterSegmentChecks(HandlerRegistry r)
    {
        r.Add(Mnemonic.Lar, &Lar);
        r.Add(Mnemonic.Lsl, &Lsl);
        r.Add(Mnemonic.Verr, &Verr);
        r.Add(Mnemonic.Verw, &Verw);
        r.Add(Mnemonic.Arpl, &Arpl);
    }

    private static void RequireProtectedNotVm86(Cpu cpu)
    {
        if ((cpu._cr0 & CrBits.PE) == 0 || (cpu.RFlagsValue & RFlags.VM) != 0)
        {
            throw new GuestFault(Vector.UD);
        }
    }

    /// <summary>The descriptor of <paramref name="selector"/>, or null where QEMU's load_segment fails (null selector, past the table's limit).</summary>
    private static ulong? Descriptor(Cpu cpu, int selector)
    {
        if ((selector & 0xFFFC) == 0)
        {
            return null;
        }

        bool ldt = (selector & 4) != 0;
        ulong tableBase = ldt ? cpu._ldtr.Base : cpu._gdtr.Base;
        uint limit = ldt ? cpu._ldtr.Limit : cpu._gdtr.Limit;
        uint index = (uint)(selector & 0xFFF8);
        return index + 7 > limit ? null : cpu.Read64(cpu.WrapLinear(tableBase + index));
    }

    /// <summary>The privilege test LAR, LSL and VERR share: passes for conforming code, else DPL ≥ CPL and DPL ≥ RPL.</summary>
    private static bool Visible(Cpu cpu, ulong desc, int selector)
    {
        int dpl = (int)(desc >> 45) & 3;
        bool conformingCode = (desc & Cpu.DescS) != 0 && (desc & Cpu.DescCode) != 0 && (desc & Cpu.DescC) != 0;
        return conformingCode || (dpl >= cpu._cpl && dpl >= (selector & 3));
    }

    /// <summary>LAR/LSL: the descriptor when the selector passes, for system descriptors only the listed types.</summary>
    private static ulong? Accessible(Cpu cpu, int selector, ReadOnlySpan<int> systemTypes)
    {
        if (Descriptor(cpu, selector) is not { } desc)
        {
            return null;
        }

        if ((desc & Cpu.DescS) == 0 && !systemTypes.Contains((int)(desc >> 40) & 0xF))
        {
            return null;
        }

        return Visible(cpu, desc, selector) ? desc : null;
    }

    /// <summary>LAR/LSL write the register only on success, at 16 bits or else 32 (zero-extended) — QEMU's ot.</summary>
    private static void LoadChecked(Cpu cpu, ref DecodedOp op, ulong? value)
    {
        cpu.SetFlag(RFlags.ZF, value.HasValue);
        if (value is { } v)
        {
            cpu.WriteGpr(op.Reg0, op.OpSize == 2 ? 2 : 4, v);
        }
    }

    private static void Lar(Cpu cpu, ref DecodedOp op)
    {
        RequireProtectedNotVm86(cpu);
        int selector = (int)cpu.ReadOp1(ref op, 2);
        ulong? desc = Accessible(cpu, selector, [1, 2, 3, 4, 5, 9, 11, 12]);
        LoadChecked(cpu, ref op, desc is { } d ? (d >> 32) & 0x00F0_FF00 : null);
    }

    private static void Lsl(Cpu cpu, ref DecodedOp op)
    {
        RequireProtectedNotVm86(cpu);
        int selector = (int)cpu.ReadOp1(ref op, 2);
        ulong? desc = Accessible(cpu, selector, [1, 2, 3, 9, 11]);
        LoadChecked(cpu, ref op, desc is { } d ? Cpu.DescriptorLimit(d) : null);
    }

    /// <summary>VERR: a readable code segment (privilege not checked when conforming) or any data segment that passes the privilege test.</summary>
    private static void Verr(Cpu cpu, ref DecodedOp op)
    {
        RequireProtectedNotVm86(cpu);
        int selector = (int)cpu.ReadOp0(ref op, 2);
        bool ok = Descriptor(cpu, selector) is { } d && (d & Cpu.DescS) != 0
            && ((d & Cpu.DescCode) == 0 || (d & Cpu.DescR) != 0)
            && Visible(cpu, d, selector);
        cpu.SetFlag(RFlags.ZF, ok);
    }

    /// <summary>VERW: a data segment (QEMU does not test its writable bit) that passes the privilege test; code never.</summary>
    private static void Verw(Cpu cpu, ref DecodedOp op)
    {
        RequireProtectedNotVm86(cpu);
        int selector = (int)cpu.ReadOp0(ref op, 2);
        bool ok = Descriptor(cpu, selector) is { } d && (d & Cpu.DescS) != 0 && (d & Cpu.DescCode) == 0 && Visible(cpu, d, selector);
        cpu.SetFlag(RFlags.ZF, ok);
    }

    /// <summary>ARPL r/m16, r16: raises the destination's RPL to the source's (ZF = 1) or leaves it (ZF = 0); QEMU stores the 16 bits back either way.</summary>
    private static void Arpl(Cpu cpu, ref DecodedOp op)
    {
        RequireProtectedNotVm86(cpu);
        ulong lin = op.Kind0 == OperandKind.Memory ? cpu.MemLinear(ref op) : 0;
        ushort dst = op.Kind0 == OperandKind.Memory ? cpu.Read16(lin) : (ushort)cpu.ReadGpr(op.Reg0, 2);
        int rpl = (int)cpu.ReadGpr(op.Reg1, 2) & 3;
        bool raise = (dst & 3) < rpl;
        if (raise)
        {
            dst = (ushort)((dst & ~3) | rpl);
        }

        if (op.Kind0 == OperandKind.Memory)
        {
            cpu.Write16(lin, dst);
        }
        else
        {
            cpu.WriteGpr(op.Reg0, 2, dst);
        }

        cpu.SetFlag(RFlags.ZF, raise);
    }
}
