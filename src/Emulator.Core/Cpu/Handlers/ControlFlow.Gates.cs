namespace Emulator.Core.Cpu;

/// <summary>
/// Far JMP and CALL through call gates, as QEMU 7.2's helper_ljmp_protected and
/// helper_lcall_protected (target/i386/tcg/seg_helper.c): 286 and 386 gates in legacy mode,
/// 16-byte 386 gates in long mode; a CALL to a more privileged non-conforming segment switches
/// to the stack the TSS holds for the new level and copies the gate's count of parameters.
/// A TSS descriptor or task gate (outside long mode) switches tasks (<see cref="Cpu.SwitchTask"/>).
/// </summary>
internal static unsafe partial class Handlers
{
    private const int CallGate286 = 4, CallGate386 = 12, TaskGate = 5, Tss286 = 1, Tss386 = 9;

    // Raw descriptor bits of a code segment: L (64-bit) and D/B.
    private const ulong DescLong = 1UL << 53, DescBig = 1UL << 54;

    /// <summary>The descriptor of a protected-mode far JMP/CALL target when it is a system descriptor (a gate or TSS).</summary>
    private static bool TryGetSystemTarget(Cpu cpu, ushort selector, out ulong desc)
    {
        desc = 0;
        return IsProtected(cpu) && (selector & 0xFFFC) != 0 && cpu.TryReadDescriptor(selector, out desc) && (desc & Cpu.DescS) == 0;
    }

    private static bool LongModeActive(Cpu cpu) => (cpu._efer & CrBits.EferLma) != 0;

    /// <summary>
    /// The checks on the gate itself, in QEMU's order: in long mode only a 386 call gate (type 12);
    /// other types than 4 and 12 #GP(gate) (TSS and task gates are taken before); DPL below
    /// CPL or RPL #GP(gate); not present #NP(gate). Returns the target selector and offset: a JMP
    /// through a 286 gate takes 16 offset bits, a CALL all the gate's 32 (as QEMU); a long-mode
    /// gate adds the upper half from the next 8 bytes, whose type must be 0 (#GP(gate)).
    /// </summary>
    private static ushort ReadCallGate(Cpu cpu, ushort gateSelector, ulong gate, bool jump, out ulong offset)
    {
        uint gateError = gateSelector & 0xFFFCu;
        int type = (int)(gate >> 40) & 0x1F;
        int dpl = Cpu.DescriptorDpl(gate);
        bool reachable = dpl >= cpu._cpl && dpl >= (gateSelector & 3);
        if (LongModeActive(cpu) && type != CallGate386)
        {
            throw new GuestFault(Vector.GP, gateError);
        }

        if (type is not (CallGate286 or CallGate386) || !reachable)
        {
            throw new GuestFault(Vector.GP, gateError);
        }

        if ((gate & Cpu.DescP) == 0)
        {
            throw new GuestFault(Vector.NP, gateError);
        }

        offset = (gate & 0xFFFF) | (jump && type == CallGate286 ? 0 : (gate >> 32) & 0xFFFF_0000);
        if (LongModeActive(cpu))
        {
            if (!cpu.TryReadDescriptor((ushort)(gateSelector + 8), out ulong upper) || ((upper >> 40) & 0x1F) != 0)
            {
                throw new GuestFault(Vector.GP, gateError);
            }

            offset |= (upper & 0xFFFF_FFFF) << 32;
        }

        return (ushort)(gate >> 16);
    }

    /// <summary>
    /// JMP/CALL to an available TSS (types 1, 9) or a task gate outside long mode: DPL below CPL
    /// or RPL #GP(selector), then the task switch; the new task's EIP is where execution goes.
    /// </summary>
    private static bool TrySwitchTask(Cpu cpu, ushort selector, ulong desc, TaskSwitchSource source)
    {
        int type = (int)(desc >> 40) & 0x1F;
        if (LongModeActive(cpu) || type is not (Tss286 or Tss386 or TaskGate))
        {
            return false;
        }

        int dpl = Cpu.DescriptorDpl(desc);
        if (dpl < cpu._cpl || dpl < (selector & 3))
        {
            throw new GuestFault(Vector.GP, selector & 0xFFFCu);
        }

        cpu._nextRip = cpu.SwitchTask(selector, desc, source, cpu._nextRip);
        cpu._exitBlock = true;
        return true;
    }

    /// <summary>In long mode a gate's target must be a 64-bit code segment: L set, D clear (#GP(target)).</summary>
    private static void CheckLongGateTarget(Cpu cpu, ulong code, uint targetError)
    {
        if (LongModeActive(cpu) && ((code & DescLong) == 0 || (code & DescBig) != 0))
        {
            throw new GuestFault(Vector.GP, targetError);
        }
    }

    /// <summary>
    /// JMP through a call gate (helper_ljmp_protected): the target must be a code segment at CPL
    /// (non-conforming) or at most CPL (conforming), present (#GP, not #NP, as QEMU), and the offset
    /// within its limit unless it is a 64-bit segment (#GP(0)). CPL does not change.
    /// </summary>
    private static void JumpThroughGate(Cpu cpu, ushort gateSelector, ulong gate)
    {
        if (TrySwitchTask(cpu, gateSelector, gate, TaskSwitchSource.Jump))
        {
            return;
        }

        ushort target = ReadCallGate(cpu, gateSelector, gate, jump: true, out ulong offset);
        uint targetError = target & 0xFFFCu;
        if (!cpu.TryReadDescriptor(target, out ulong code))
        {
            throw new GuestFault(Vector.GP, targetError);
        }

        int dpl = Cpu.DescriptorDpl(code);
        bool conforming = (code & Cpu.DescC) != 0;
        if ((code & Cpu.DescS) == 0 || (code & Cpu.DescCode) == 0 || (conforming ? dpl > cpu._cpl : dpl != cpu._cpl))
        {
            throw new GuestFault(Vector.GP, targetError);
        }

        CheckLongGateTarget(cpu, code, targetError);
        if ((code & Cpu.DescP) == 0)
        {
            throw new GuestFault(Vector.GP, targetError);
        }

        if (offset > Cpu.DescriptorLimit(code) && !(LongModeActive(cpu) && (code & DescLong) != 0))
        {
            throw new GuestFault(Vector.GP, 0);
        }

        cpu.SetSegmentFromDescriptor(Seg.Cs, (ushort)((target & 0xFFFC) | cpu._cpl), code);
        cpu.UpdateMode();
        cpu._nextRip = offset;
        cpu._exitBlock = true;
    }

    /// <summary>
    /// CALL through a call gate (helper_lcall_protected). The target must be a present code
    /// segment with DPL &lt;= CPL (#GP(target), not present #NP(target)); a non-conforming one with
    /// DPL &lt; CPL is entered on the TSS's stack for that level (SS:ESP from a 16/32-bit TSS with
    /// its #TS checks, or RSP with a null SS in long mode), which receives the old SS:ESP and the
    /// gate's parameter count of words or dwords copied from the old stack (none for a 64-bit
    /// gate). The return CS:IP is pushed at the gate's size (8 bytes in long mode). The stack
    /// accesses are supervisor accesses (QEMU's cpu_st*_kernel); nothing changes before they succeed.
    /// </summary>
    private static void CallThroughGate(Cpu cpu, ushort gateSelector, ulong gate)
    {
        if (TrySwitchTask(cpu, gateSelector, gate, TaskSwitchSource.Call))
        {
            return;
        }

        ushort target = ReadCallGate(cpu, gateSelector, gate, jump: false, out ulong offset);
        int size = ((gate >> 40) & 0xF) == CallGate386 ? 4 : 2;
        int paramCount = (int)(gate >> 32) & 0x1F;
        uint targetError = target & 0xFFFCu;
        if (targetError == 0)
        {
            throw new GuestFault(Vector.GP, 0);
        }

        if (!cpu.TryReadDescriptor(target, out ulong code) || (code & Cpu.DescS) == 0 || (code & Cpu.DescCode) == 0)
        {
            throw new GuestFault(Vector.GP, targetError);
        }

        int dpl = Cpu.DescriptorDpl(code);
        if (dpl > cpu._cpl)
        {
            throw new GuestFault(Vector.GP, targetError);
        }

        CheckLongGateTarget(cpu, code, targetError);
        if (LongModeActive(cpu))
        {
            size = 8;
        }

        if ((code & Cpu.DescP) == 0)
        {
            throw new GuestFault(Vector.NP, targetError);
        }

        int oldCpl = cpu._cpl;
        bool inner = (code & Cpu.DescC) == 0 && dpl < oldCpl;
        cpu.ChangeCpl(0);
        ulong sp, finalMask;
        ushort ss = 0;
        ulong ssDesc = 0;
        try
        {
            var stack = inner ? InnerCallStack(cpu, dpl, size, out ss, out ssDesc) : CurrentStack(cpu, size);
            sp = stack.Sp;
            finalMask = stack.FinalMask;
            if (inner)
            {
                sp = PushCopiedFrame(cpu, stack, size, paramCount);
            }

            sp = PushKernel(cpu, stack with { Sp = sp }, size, cpu._seg[Seg.Cs].Selector);
            sp = PushKernel(cpu, stack with { Sp = sp }, size, cpu._nextRip);
        }
        catch (GuestFault)
        {
            cpu.ChangeCpl(oldCpl);
            throw;
        }

        if (inner)
        {
            if (size == 8)
            {
                cpu._seg[Seg.Ss] = new SegmentRegister { Selector = ss };
            }
            else
            {
                cpu.SetSegmentFromDescriptor(Seg.Ss, (ushort)((ss & ~3) | dpl), ssDesc);
            }
        }

        // QEMU gives CS the target's DPL as RPL; CPL follows SS, so it stays for a conforming target.
        cpu.SetSegmentFromDescriptor(Seg.Cs, (ushort)((target & ~3) | dpl), code);
        cpu.ChangeCpl(inner ? dpl : oldCpl);
        cpu.UpdateMode();
        cpu.SetSpMasked(sp, finalMask);
        cpu._nextRip = offset;
        cpu._exitBlock = true;
    }

    /// <summary>A stack as QEMU's push macros address it: base + (SP &amp; mask); FinalMask is the one SP is written back through.</summary>
    private readonly record struct GateStack(ulong Base, ulong Sp, ulong Mask, ulong FinalMask);

    private static GateStack CurrentStack(Cpu cpu, int size)
    {
        ulong mask = Cpu.StackPointerMask(cpu._seg[Seg.Ss].Attributes);
        // QEMU's 64-bit pushes use RSP unmasked, but write it back through the SS mask.
        return size == 8
            ? new GateStack(0, cpu._gpr[Gpr.Rsp], ulong.MaxValue, mask)
            : new GateStack(cpu._seg[Seg.Ss].Base, cpu._gpr[Gpr.Rsp], mask, mask);
    }

    private static GateStack InnerCallStack(Cpu cpu, int dpl, int size, out ushort ss, out ulong ssDesc)
    {
        if (size == 8)
        {
            // Long mode: RSP from the 64-bit TSS, SS a null selector with RPL = new CPL (not aligned, unlike interrupts).
            ss = (ushort)dpl;
            ssDesc = 0;
            return new GateStack(0, cpu.RspFromTss(dpl), ulong.MaxValue, ulong.MaxValue);
        }

        ssDesc = cpu.InnerStackFromTss(dpl, out ss, out uint esp);
        ulong mask = Cpu.StackPointerMask(Cpu.DescriptorAttributes(ssDesc));
        return new GateStack(Cpu.DescriptorBase(ssDesc), esp, mask, mask);
    }

    /// <summary>Pushes the old SS and SP, then the gate's parameters read from the old stack, deepest first.</summary>
    private static ulong PushCopiedFrame(Cpu cpu, GateStack stack, int size, int paramCount)
    {
        ulong oldSp = cpu._gpr[Gpr.Rsp];
        ulong sp = PushKernel(cpu, stack, size, cpu._seg[Seg.Ss].Selector);
        sp = PushKernel(cpu, stack with { Sp = sp }, size, oldSp);
        if (size == 8)
        {
            return sp;
        }

        ulong oldBase = cpu._seg[Seg.Ss].Base;
        ulong oldMask = Cpu.StackPointerMask(cpu._seg[Seg.Ss].Attributes);
        for (int i = paramCount - 1; i >= 0; i--)
        {
            ulong value = cpu.ReadSized(cpu.WrapLinear(oldBase + ((oldSp + (ulong)(i * size)) & oldMask)), size);
            sp = PushKernel(cpu, stack with { Sp = sp }, size, value);
        }

        return sp;
    }

    private static ulong PushKernel(Cpu cpu, GateStack stack, int size, ulong value)
    {
        ulong sp = stack.Sp - (ulong)size;
        cpu.WriteSized(cpu.WrapLinear(stack.Base + (sp & stack.Mask)), size, value);
        return sp;
    }
}
