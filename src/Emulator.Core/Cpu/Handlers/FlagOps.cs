using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Single-flag instructions (Intel SDM Vol. 2): CLC, STC, CMC, CLD, STD, CLI, STI. CLI/STI
/// follow the protected-mode IOPL rule (#GP when CPL &gt; IOPL; VME/PVI are not modelled). STI
/// blocks interrupts for one instruction and ends the block so a pending interrupt is seen.
/// </summary>
internal static unsafe partial class Handlers
{
    internal static void RegisterFlagOps(HandlerRegistry r)
    {
        r.Add(Mnemonic.Clc, &Clc);
        r.Add(Mnemonic.Stc, &Stc);
        r.Add(Mnemonic.Cmc, &Cmc);
        r.Add(Mnemonic.Cld, &Cld);
        r.Add(Mnemonic.Std, &Std);
        r.Add(Mnemonic.Cli, &Cli);
        r.Add(Mnemonic.Sti, &Sti);
    }

    private static void Clc(Cpu cpu, ref DecodedOp op) => cpu.SetFlag(RFlags.CF, false);

    private static void Stc(Cpu cpu, ref DecodedOp op) => cpu.SetFlag(RFlags.CF, true);

    private static void Cmc(Cpu cpu, ref DecodedOp op) => cpu.SetFlag(RFlags.CF, !cpu.GetCF());

    private static void Cld(Cpu cpu, ref DecodedOp op) => cpu._flags &= ~RFlags.DF;

    private static void Std(Cpu cpu, ref DecodedOp op) => cpu._flags |= RFlags.DF;

    private static void Cli(Cpu cpu, ref DecodedOp op)
    {
        CheckIopl(cpu);
        cpu._flags &= ~RFlags.IF;
    }

    /// <summary>STI: interrupts stay inhibited until after the next instruction (SDM Vol. 2, STI); QEMU sets the shadow unconditionally.</summary>
    private static void Sti(Cpu cpu, ref DecodedOp op)
    {
        CheckIopl(cpu);
        cpu._flags |= RFlags.IF;
        cpu._interruptShadow = true;
        cpu._exitBlock = true;
    }

    /// <summary>IF is only writable when CPL &lt;= IOPL in protected mode (IOPL &lt; 3 in virtual-8086 mode).</summary>
    private static void CheckIopl(Cpu cpu)
    {
        if ((cpu._cr0 & CrBits.PE) != 0 && cpu._cpl > (int)((cpu._flags & RFlags.IOPL) >> 12))
        {
            throw new GuestFault(Vector.GP, 0);
        }
    }
}
