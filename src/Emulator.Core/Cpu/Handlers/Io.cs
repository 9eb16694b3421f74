using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Port I/O (Intel SDM Vol. 2, IN, OUT, INS, OUTS; Vol. 1, 19.5): the imm8 and DX forms at 8, 16
/// and 32 bits, and the string forms with REP. Accesses go to <see cref="Cpu.Ports"/>; a device
/// that must end the block (reset, shutdown, test exit) calls <see cref="Cpu.RequestStop"/>, and
/// one that remaps memory flushes the TLB, which also ends it, so these handlers do not.
/// In protected mode at CPL &gt; IOPL, and in virtual-8086 mode, every form first consults the
/// TSS's I/O permission bitmap (<see cref="CheckIoPermission"/>), once per instruction even under
/// REP; then, in an SVM guest, the IOIO intercept, before it touches a port (QEMU 7.2's
/// gen_check_io in that order).
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterIo(HandlerRegistry r)
    {
        r.Add(Code.In_AL_imm8, &InImm);
        r.Add(Code.In_AX_imm8, &InImm);
        r.Add(Code.In_EAX_imm8, &InImm);
        r.Add(Code.In_AL_DX, &InDx);
        r.Add(Code.In_AX_DX, &InDx);
        r.Add(Code.In_EAX_DX, &InDx);
        r.Add(Code.Out_imm8_AL, &OutImm);
        r.Add(Code.Out_imm8_AX, &OutImm);
        r.Add(Code.Out_imm8_EAX, &OutImm);
        r.Add(Code.Out_DX_AL, &OutDx);
        r.Add(Code.Out_DX_AX, &OutDx);
        r.Add(Code.Out_DX_EAX, &OutDx);
        r.Add(Code.Insb_m8_DX, &Ins);
        r.Add(Code.Insw_m16_DX, &Ins);
        r.Add(Code.Insd_m32_DX, &Ins);
        r.Add(Code.Outsb_DX_m8, &Outs);
        r.Add(Code.Outsw_DX_m16, &Outs);
        r.Add(Code.Outsd_DX_m32, &Outs);
    }

    /// <summary>The I/O permission bitmap, then the SVM IOIO intercept (REP, F3 or F2 on any form, is part of its exit information).</summary>
    private static void CheckIo(Cpu cpu, ref DecodedOp op, ushort port, int size, bool input, bool isString)
    {
        CheckIoPermission(cpu, port, size);
        if (cpu._svmGuest)
        {
            cpu.CheckIoIntercept(port, size, input, isString, op.Insn.HasRepPrefix || op.Insn.HasRepnePrefix, cpu._rip + op.Length);
        }
    }

    /// <summary>IN AL/AX/EAX, imm8: a 32-bit read zero-extends into RAX like any 32-bit register write.</summary>
    private static void InImm(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        CheckIo(cpu, ref op, (byte)op.Imm, size, input: true, isString: false);
        cpu.WriteGpr(Gpr.Rax, size, cpu.Ports.Read((byte)op.Imm, size));
    }

    private static void InDx(Cpu cpu, ref DecodedOp op)
    {
        int size = op.OpSize;
        CheckIo(cpu, ref op, (ushort)cpu._gpr[Gpr.Rdx], size, input: true, isString: false);
        cpu.WriteGpr(Gpr.Rax, size, cpu.Ports.Read((ushort)cpu._gpr[Gpr.Rdx], size));
    }

    /// <summary>OUT imm8, AL/AX/EAX: the size is that of operand 1 (operand 0 is the port number).</summary>
    private static void OutImm(Cpu cpu, ref DecodedOp op)
    {
        int size = op.Op1Size;
        CheckIo(cpu, ref op, (byte)op.Imm, size, input: false, isString: false);
        cpu.Ports.Write((byte)op.Imm, size, (uint)cpu.ReadGpr(Gpr.Rax, size));
    }

    private static void OutDx(Cpu cpu, ref DecodedOp op)
    {
        int size = op.Op1Size;
        CheckIo(cpu, ref op, (ushort)cpu._gpr[Gpr.Rdx], size, input: false, isString: false);
        cpu.Ports.Write((ushort)cpu._gpr[Gpr.Rdx], size, (uint)cpu.ReadGpr(Gpr.Rax, size));
    }

    /// <summary>
    /// INS: port DX to ES:DI. The destination is probed before the port is read, so a #PF does
    /// not consume device data (QEMU likewise checks the store before the I/O).
    /// </summary>
    private static void Ins(Cpu cpu, ref DecodedOp op)
    {
        CheckIo(cpu, ref op, (ushort)cpu._gpr[Gpr.Rdx], op.MemSize, input: true, isString: true);
        ulong count = BeginString(cpu, ref op, out ulong m, out ulong step);
        int size = op.MemSize, a = op.AddrSize;
        ushort port = (ushort)cpu._gpr[Gpr.Rdx];
        ulong di = cpu._gpr[Gpr.Rdi] & m;
        try
        {
            while (count != 0)
            {
                ulong lin = cpu.Linear(Seg.Es, di);
                cpu.ProbeWrite(lin, size);
                cpu.WriteSized(lin, size, cpu.Ports.Read(port, size));
                di = (di + step) & m;
                count--;
            }
        }
        finally
        {
            cpu.WriteGpr(Gpr.Rdi, a, di);
            EndRep(cpu, ref op, count);
        }
    }

    /// <summary>OUTS: seg:SI (DS unless overridden) to port DX.</summary>
    private static void Outs(Cpu cpu, ref DecodedOp op)
    {
        CheckIo(cpu, ref op, (ushort)cpu._gpr[Gpr.Rdx], op.MemSize, input: false, isString: true);
        ulong count = BeginString(cpu, ref op, out ulong m, out ulong step);
        int size = op.MemSize, a = op.AddrSize;
        ushort port = (ushort)cpu._gpr[Gpr.Rdx];
        ulong si = cpu._gpr[Gpr.Rsi] & m;
        try
        {
            while (count != 0)
            {
                ulong v = cpu.ReadSized(cpu.Linear(op.MemSeg, si), size);
                cpu.Ports.Write(port, size, (uint)v);
                si = (si + step) & m;
                count--;
            }
        }
        finally
        {
            cpu.WriteGpr(Gpr.Rsi, a, si);
            EndRep(cpu, ref op, count);
        }
    }

    /// <summary>
    /// QEMU 7.2's gen_check_io and helper_check_io (target/i386/tcg/translate.c,
    /// sysemu/seg_helper.c): in protected mode with CPL &gt; IOPL or in virtual-8086 mode, the
    /// access needs a present 32-bit TSS of limit 103 or more whose bitmap (offset at +0x66)
    /// has the port's <paramref name="size"/> bits clear, both bytes within the limit; else #GP(0).
    /// The bitmap reads are supervisor accesses.
    /// </summary>
    private static void CheckIoPermission(Cpu cpu, ushort port, int size)
    {
        if ((cpu._cr0 & CrBits.PE) == 0 || (cpu._cpl <= (int)((cpu._flags & RFlags.IOPL) >> 12) && (cpu._flags & RFlags.VM) == 0))
        {
            return;
        }

        SegmentRegister tr = cpu._tr;
        // The TSS32 types: 9 as LTR's QEMU cache holds it, 11 as emu's (busy) does.
        if (!tr.Present || ((tr.Attributes >> 8) & 0xD) != 9 || tr.Limit < 103)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        int cpl = cpu._cpl;
        cpu.ChangeCpl(0);
        try
        {
            uint offset = cpu.Read16(cpu.WrapLinear(tr.Base + 0x66)) + (uint)(port >> 3);
            if (offset + 1 > tr.Limit || ((cpu.Read16(cpu.WrapLinear(tr.Base + offset)) >> (port & 7)) & ((1 << size) - 1)) != 0)
            {
                throw new GuestFault(Vector.GP, 0);
            }
        }
        finally
        {
            cpu.ChangeCpl(cpl);
        }
    }
}
