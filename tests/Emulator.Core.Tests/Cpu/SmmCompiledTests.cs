using Emulator.Core.Cpu;
using Emulator.Core.Io;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using CpuSmm = Emulator.Core.Cpu.Cpu;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// SMIs and RSM with every block compiled (the block compiler, src/Emulator.Core/Cpu/Jit): guest
/// code in a hot loop raises an SMI with an OUT to the APM control port, as OVMF's SmmControl2Dxe
/// does, and the handler clobbers everything it can and RSMs. The SMI is taken after the OUT (QEMU
/// target/i386/tcg/sysemu/seg_helper.c: at the next instruction boundary, so the saved RIP follows
/// the OUT) and RSM must end its block (it changes mode, CS and paging). The final state is
/// compared with the same program run without SMIs: every field RSM restores must be equal.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SmmCompiledTests
{
    private const ulong Scratch = 0x5000;
    private const ushort SmiPort = 0xB2;
    private const int Iterations = 6;

    /// <summary>Handler instructions, RSM included (see <see cref="ClobberingHandler"/>).</summary>
    private const int HandlerInstructions = 14;

    /// <summary>Raises an SMI on every write, as ICH9's APM control port does with APMC_EN set (hw/isa/lpc_ich9.c).</summary>
    private sealed class SmiPortDevice(CpuSmm cpu, bool raise) : IPortDevice
    {
        public string Name => "apm-cnt";

        public int Writes { get; private set; }

        public uint Read(ushort offset, int size) => 0;

        public void Write(ushort offset, int size, uint value)
        {
            Writes++;
            if (raise)
            {
                cpu.RaiseSmi();
            }
        }
    }

    /// <summary>Counts its runs at Scratch, records the saved RIP, clobbers every GPR and the flags, and RSMs.</summary>
    private static void ClobberingHandler(Assembler a, bool map32)
    {
        a.inc(__dword_ptr[Scratch]);
        a.db(0x2E); // CS: the saved RIP/EIP (SMBASE+0xFF78 in the AMD64 map, 0xFFF0 in the 32-bit one)
        a.mov(eax, __dword_ptr[map32 ? 0xFFF0 : 0xFF78]);
        a.mov(__dword_ptr[Scratch + 4], eax);
        a.mov(eax, 0xDEAD_0001);
        a.mov(ebx, 0xDEAD_0002);
        a.mov(ecx, 0xDEAD_0003);
        a.mov(edx, 0xDEAD_0004);
        a.mov(esi, 0xDEAD_0005);
        a.mov(edi, 0xDEAD_0006);
        a.mov(ebp, 0xDEAD_0007);
        a.mov(esp, 0x7000);
        a.stc();
        a.std();
        a.rsm();
    }

    /// <summary>
    /// A loop whose body sets registers, OUTs to the SMI port, then uses the registers (so a wrong
    /// restore shows in the result) and changes the flags; HLT at the end.
    /// </summary>
    private static void Program(Assembler a, int bitness)
    {
        var loop = a.CreateLabel();
        a.mov(ecx, Iterations);
        a.xor(edi, edi);
        a.Label(ref loop);
        a.mov(eax, 0x1357_9BDF);
        a.mov(ebx, 0x0BAD_F00D);
        a.mov(edx, 0x2468_ACE0);
        if (bitness == 64)
        {
            a.mov(r8, unchecked((long)0x8888_0000_0000_0008UL));
            a.mov(r15, unchecked((long)0xF0F0_0000_0000_000FUL));
        }

        a.@out((byte)SmiPort, al);
        a.add(edi, eax);
        a.xor(edi, ebx);
        a.lea(esi, __dword_ptr[edi + edx]);
        a.rol(edi, 3);
        if (bitness == 64)
        {
            a.add(r8, r15);
        }

        a.dec(ecx);
        a.jnz(loop);
        a.cmc();
        a.hlt();
    }

    private static (CpuSnapshot State, TestMachine Machine, SmiPortDevice Port) Run(int bitness, bool map32, bool raise)
    {
        var m = new TestMachine();
        m.Cpu.CompileThreshold = 1;
        m.Cpu.CompileSynchronously = true;
        m.Cpu.SmmSaveMap32 = map32;
        var port = new SmiPortDevice(m.Cpu, raise);
        m.Ports.Register(SmiPort, 1, port);
        m.Load(CpuSmm.DefaultSmBase + 0x8000, TestMachine.Assemble(16, 0x8000, a => ClobberingHandler(a, map32)));
        m.Load(bitness, a => Program(a, bitness));
        m.Cpu._dr[6] = 0xFFFF_4FF0;
        Assert.Equal(StopReason.Halted, m.Run());
        return (m.Cpu.SaveState(), m, port);
    }

    [Theory]
    [InlineData(64, false)]
    [InlineData(32, false)]
    [InlineData(32, true)]
    public void SmiFromACompiledBlock_RsmRestoresEveryField(int bitness, bool map32)
    {
        var (plain, plainMachine, _) = Run(bitness, map32, raise: false);
        var (smm, m, port) = Run(bitness, map32, raise: true);
        using (plainMachine)
        using (m)
        {
            Assert.True(m.Cpu.BlocksCompiled > 0);
            Assert.Equal(Iterations, port.Writes);
            Assert.Equal(Iterations, m.Cpu.SmmEntries);
            Assert.Equal((uint)Iterations, m.ReadU32(Scratch));
            Assert.False(m.Cpu.InSmm);

            // The saved RIP is the instruction after the OUT (2 bytes: E6 B2).
            ulong outAt = FindOut(m, plain.Rip);
            Assert.Equal(outAt + 2, m.ReadU32(Scratch + 4));

            for (int i = 0; i < 16; i++)
            {
                Assert.Equal(plain.Gprs[i], smm.Gprs[i]);
            }

            Assert.Equal(plain.Rip, smm.Rip);
            SmmTests.AssertSameNonGprState(plain, smm);
            Assert.Equal(bitness, m.Cpu.Bitness);

            // Instruction accounting: the handler's instructions, RSM included, per SMI, and no more.
            Assert.Equal(Iterations * (long)HandlerInstructions, m.Cpu.SmmInstructions);
            Assert.Equal(plain.InstructionCount + m.Cpu.SmmInstructions, smm.InstructionCount);
        }
    }

    [Fact]
    public void RsmEndsItsBlock()
    {
        // RSM transfers control (it reloads RIP, CS and the mode): the decoder must end the block
        // there, or the interpreter and the compiled code would run on past it in SMM's 16-bit code.
        var insn = Decoder.Create(16, new ByteArrayCodeReader([0x0F, 0xAA])).Decode();
        Assert.Equal(Code.Rsm, insn.Code);
        Assert.NotEqual(FlowControl.Next, insn.FlowControl);
    }

    /// <summary>The OUT's address: the program is loaded where <see cref="TestMachine.Load(int, Action{Assembler})"/> puts it, found by its bytes.</summary>
    private static ulong FindOut(TestMachine m, ulong haltRip)
    {
        for (ulong at = haltRip; at > haltRip - 0x100; at--)
        {
            if (m.Bus.Read(at, 2) == (0xB2UL << 8 | 0xE6))
            {
                return at;
            }
        }

        throw new InvalidOperationException("no OUT 0xB2, AL before the HLT");
    }
}
