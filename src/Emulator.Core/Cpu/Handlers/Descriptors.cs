using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Descriptor-table and segment-register instructions (Intel SDM Vol. 2; Vol. 3, 3.5 and 7.2):
/// LGDT/LIDT/SGDT/SIDT in every operand size, LLDT/SLDT, LTR/STR (16-byte system descriptors in
/// long mode), MOV to and from segment registers, LDS/LES/LSS/LFS/LGS, and SWAPGS. SGDT/SIDT
/// store exactly what QEMU stores: PEI finds its services table through the IDTR.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterDescriptors(HandlerRegistry r)
    {
        r.Add(Mnemonic.Lgdt, &Lgdt);
        r.Add(Mnemonic.Lidt, &Lidt);
        r.Add(Mnemonic.Sgdt, &Sgdt);
        r.Add(Mnemonic.Sidt, &Sidt);
        r.Add(Mnemonic.Lldt, &Lldt);
        r.Add(Mnemonic.Sldt, &Sldt);
        r.Add(Mnemonic.Ltr, &Ltr);
        r.Add(Mnemonic.Str, &Str);
        r.Add(Code.Mov_Sreg_rm16, &MovToSreg);
        r.Add(Code.Mov_Sreg_r32m16, &MovToSreg);
        r.Add(Code.Mov_Sreg_r64m16, &MovToSreg);
        r.Add(Code.Mov_rm16_Sreg, &MovFromSreg);
        r.Add(Code.Mov_r32m16_Sreg, &MovFromSreg);
        r.Add(Code.Mov_r64m16_Sreg, &MovFromSreg);
        r.Add(Mnemonic.Lds, &LoadFarPointerDs);
        r.Add(Mnemonic.Les, &LoadFarPointerEs);
        r.Add(Mnemonic.Lss, &LoadFarPointerSs);
        r.Add(Mnemonic.Lfs, &LoadFarPointerFs);
        r.Add(Mnemonic.Lgs, &LoadFarPointerGs);
        r.Add(Code.Swapgs, &Swapgs);
    }

    /// <summary>Reads the limit:base pseudo-descriptor; a 16-bit operand size keeps 24 base bits (SDM Vol. 2, LGDT).</summary>
    private static TableRegister ReadPseudoDescriptor(Cpu cpu, ref DecodedOp op, uint svmExit)
    {
        RequireRing0(cpu);
        cpu.CheckIntercept(svmExit);
        ulong lin = cpu.MemLinear(ref op);
        uint limit = cpu.Read16(lin);
        ulong baseAddr = cpu._bitness == 64 ? cpu.Read64(cpu.WrapLinear(lin + 2)) : cpu.Read32(cpu.WrapLinear(lin + 2));
        if (op.Code is Code.Lgdt_m1632_16 or Code.Lidt_m1632_16)
        {
            baseAddr &= 0xFFFFFF;
        }

        return new TableRegister { Base = baseAddr, Limit = limit };
    }

    /// <summary>Stores limit:base; as QEMU, a 16-bit operand size writes the base masked to 24 bits as a full dword.</summary>
    private static void WritePseudoDescriptor(Cpu cpu, ref DecodedOp op, TableRegister t, uint svmExit)
    {
        cpu.CheckIntercept(svmExit);
        ulong lin = cpu.MemLinear(ref op);
        ulong baseAddr = t.Base;
        if (op.Code is Code.Sgdt_m1632_16 or Code.Sidt_m1632_16)
        {
            baseAddr &= 0xFFFFFF;
        }

        int baseSize = cpu._bitness == 64 ? 8 : 4;
        cpu.ProbeWrite(lin, 2 + baseSize);
        cpu.Write16(lin, (ushort)t.Limit);
        cpu.WriteSized(cpu.WrapLinear(lin + 2), baseSize, baseAddr);
    }

    /// <summary>LLDT, SLDT, LTR and STR are not recognised in real and virtual-8086 mode (#UD).</summary>
    private static bool InProtectedMode(Cpu cpu) => (cpu._cr0 & CrBits.PE) != 0 && (cpu._flags & RFlags.VM) == 0;

    private static void Lgdt(Cpu cpu, ref DecodedOp op)
    {
        cpu._gdtr = ReadPseudoDescriptor(cpu, ref op, Cpu.SvmExit.GdtrWrite);
        cpu._exitBlock = true;
    }

    private static void Lidt(Cpu cpu, ref DecodedOp op)
    {
        cpu._idtr = ReadPseudoDescriptor(cpu, ref op, Cpu.SvmExit.IdtrWrite);
        cpu._exitBlock = true;
    }

    private static void Sgdt(Cpu cpu, ref DecodedOp op) => WritePseudoDescriptor(cpu, ref op, cpu._gdtr, Cpu.SvmExit.GdtrRead);

    private static void Sidt(Cpu cpu, ref DecodedOp op) => WritePseudoDescriptor(cpu, ref op, cpu._idtr, Cpu.SvmExit.IdtrRead);

    /// <summary>SLDT/STR: a register destination receives the selector zero-extended; memory gets 16 bits.</summary>
    private static void Sldt(Cpu cpu, ref DecodedOp op) => StoreSystemSelector(cpu, ref op, cpu._ldtr.Selector, Cpu.SvmExit.LdtrRead);

    private static void Str(Cpu cpu, ref DecodedOp op) => StoreSystemSelector(cpu, ref op, cpu._tr.Selector, Cpu.SvmExit.TrRead);

    private static void StoreSystemSelector(Cpu cpu, ref DecodedOp op, ushort selector, uint svmExit)
    {
        if (!InProtectedMode(cpu))
        {
            throw new GuestFault(Vector.UD);
        }

        cpu.CheckIntercept(svmExit);

        cpu.WriteOp0(ref op, op.OpSize, selector);
    }

    private static void Lldt(Cpu cpu, ref DecodedOp op)
    {
        if (!InProtectedMode(cpu))
        {
            throw new GuestFault(Vector.UD);
        }

        RequireRing0(cpu);
        cpu.CheckIntercept(Cpu.SvmExit.LdtrWrite);
        ushort selector = (ushort)cpu.ReadOp0(ref op, 2);
        if ((selector & 0xFFFC) == 0)
        {
            // A null selector marks the LDTR invalid (SDM Vol. 2, LLDT).
            cpu._ldtr = new SegmentRegister { Selector = selector };
            return;
        }

        cpu._ldtr = LoadSystemDescriptor(cpu, selector, 2, out _, out _);
    }

    /// <summary>LTR loads TR from an available TSS descriptor and marks it busy in the GDT (SDM Vol. 3, 7.2.4).</summary>
    private static void Ltr(Cpu cpu, ref DecodedOp op)
    {
        if (!InProtectedMode(cpu))
        {
            throw new GuestFault(Vector.UD);
        }

        RequireRing0(cpu);
        cpu.CheckIntercept(Cpu.SvmExit.TrWrite);
        ushort selector = (ushort)cpu.ReadOp0(ref op, 2);
        if ((selector & 0xFFFC) == 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        var tr = LoadSystemDescriptor(cpu, selector, 9, out ulong descAddr, out ulong desc);
        cpu.Write8(cpu.WrapLinear(descAddr + 5), (byte)((desc >> 40) | 2));
        tr.Attributes |= 0x200;
        cpu._tr = tr;
    }

    /// <summary>
    /// Reads an LDT (type 2) or TSS (type 9, or 1 outside long mode) descriptor from the GDT; in
    /// long mode system descriptors are 16 bytes with base bits 63:32 in the second quadword.
    /// </summary>
    private static SegmentRegister LoadSystemDescriptor(Cpu cpu, ushort selector, int type, out ulong descAddr, out ulong desc)
    {
        uint error = selector & 0xFFFCu;
        if ((selector & 4) != 0)
        {
            throw new GuestFault(Vector.GP, error);
        }

        bool longMode = (cpu._efer & CrBits.EferLma) != 0;
        uint index = (uint)(selector & 0xFFF8);
        if (index + (longMode ? 15u : 7u) > cpu._gdtr.Limit)
        {
            throw new GuestFault(Vector.GP, error);
        }

        descAddr = cpu._gdtr.Base + index;
        desc = cpu.Read64(cpu.WrapLinear(descAddr));
        int descType = (int)((desc >> 40) & 0x1F);
        bool typeOk = descType == type || (type == 9 && descType == 1 && !longMode);
        if (!typeOk)
        {
            throw new GuestFault(Vector.GP, error);
        }

        if ((desc & (1UL << 47)) == 0)
        {
            throw new GuestFault(Vector.NP, error);
        }

        ulong baseAddr = Cpu.DescriptorBase(desc);
        if (longMode)
        {
            baseAddr |= (ulong)cpu.Read32(cpu.WrapLinear(descAddr + 8)) << 32;
        }

        return new SegmentRegister
        {
            Selector = selector,
            Base = baseAddr,
            Limit = Cpu.DescriptorLimit(desc),
            Attributes = Cpu.DescriptorAttributes(desc),
        };
    }

    /// <summary>MOV Sreg, r/m: CS cannot be loaded this way (#UD); loading SS inhibits interrupts for one instruction.</summary>
    private static void MovToSreg(Cpu cpu, ref DecodedOp op)
    {
        int seg = op.Reg0;
        if (seg == Seg.Cs || seg > Seg.Gs)
        {
            throw new GuestFault(Vector.UD);
        }

        cpu.LoadSegment(seg, (ushort)cpu.ReadOp1(ref op, 2));
        if (seg == Seg.Ss)
        {
            cpu._interruptShadow = true;
        }

        cpu._exitBlock = true;
    }

    /// <summary>MOV r/m, Sreg: memory receives 16 bits; a 32/64-bit register the zero-extended selector (as QEMU).</summary>
    private static void MovFromSreg(Cpu cpu, ref DecodedOp op)
    {
        if (op.Reg1 > Seg.Gs)
        {
            throw new GuestFault(Vector.UD);
        }

        cpu.WriteOp0(ref op, op.OpSize, cpu._seg[op.Reg1].Selector);
    }

    private static void LoadFarPointerDs(Cpu cpu, ref DecodedOp op) => LoadFarPointer(cpu, ref op, Seg.Ds);

    private static void LoadFarPointerEs(Cpu cpu, ref DecodedOp op) => LoadFarPointer(cpu, ref op, Seg.Es);

    private static void LoadFarPointerSs(Cpu cpu, ref DecodedOp op) => LoadFarPointer(cpu, ref op, Seg.Ss);

    private static void LoadFarPointerFs(Cpu cpu, ref DecodedOp op) => LoadFarPointer(cpu, ref op, Seg.Fs);

    private static void LoadFarPointerGs(Cpu cpu, ref DecodedOp op) => LoadFarPointer(cpu, ref op, Seg.Gs);

    /// <summary>LxS r, m16:16/32/64: offset first, selector after it; the segment loads (and may fault) before the register is written.</summary>
    private static void LoadFarPointer(Cpu cpu, ref DecodedOp op, int seg)
    {
        int size = op.OpSize;
        ulong lin = cpu.MemLinear(ref op);
        ulong offset = cpu.ReadSized(lin, size);
        ushort selector = cpu.Read16(cpu.WrapLinear(lin + (ulong)size));
        cpu.LoadSegment(seg, selector);
        cpu.WriteGpr(op.Reg0, size, offset);
        cpu._exitBlock = true;
    }

    /// <summary>SWAPGS exchanges GS.base with IA32_KERNEL_GS_BASE; 64-bit mode only, CPL 0.</summary>
    private static void Swapgs(Cpu cpu, ref DecodedOp op)
    {
        if (cpu._bitness != 64)
        {
            throw new GuestFault(Vector.UD);
        }

        RequireRing0(cpu);
        cpu.Msrs.TryRead(MsrFile.KernelGsBase, out ulong kernel);
        cpu.Msrs.TryWrite(MsrFile.KernelGsBase, cpu._seg[Seg.Gs].Base);
        cpu._seg[Seg.Gs].Base = kernel;
        cpu.UpdateMode();
    }
}
