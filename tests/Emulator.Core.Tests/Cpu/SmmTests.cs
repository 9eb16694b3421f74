using Emulator.Core.Memory;
using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using CpuSmm = Emulator.Core.Cpu.Cpu;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// SMI, SMM entry with QEMU 7.2's AMD64 state-save map, RSM and SMBASE relocation
/// (QEMU target/i386/tcg/sysemu/smm_helper.c; docs/cpu.md, section "SMM").
/// </summary>
[Trait("Category", "Unit")]
public class SmmTests
{
    private const ulong Scratch = 0x5000;

    /// <summary>Physical address of a save-map field of SMBASE <paramref name="smBase"/> (offsets from SMBASE+0x8000).</summary>
    private static ulong Field(ulong smBase, ulong offset) => smBase + 0x8000 + offset;

    /// <summary>Loads a 16-bit handler at SMBASE+0x8000, where SMM entry starts (CS base SMBASE, IP 0x8000).</summary>
    private static void LoadHandler(TestMachine m, ulong smBase, Action<Assembler> build) =>
        m.Load(smBase + 0x8000, TestMachine.Assemble(16, 0x8000, build));

    /// <summary>The handler records the entry state in scratch memory, reads saved RAX through CS, rewrites saved RBX, and returns.</summary>
    private static void RecordingHandler(Assembler a)
    {
        a.mov(eax, cr0);
        a.mov(__dword_ptr[Scratch], eax);
        a.mov(eax, cr4);
        a.mov(__dword_ptr[Scratch + 4], eax);
        a.mov(ax, cs);
        a.mov(__word_ptr[Scratch + 8], ax);
        a.pushfd();
        a.pop(eax);
        a.mov(__dword_ptr[Scratch + 0xC], eax);
        a.db(0x2E); // CS: saved RAX lies at SMBASE+0xFFF8
        a.mov(eax, __dword_ptr[0xFFF8]);
        a.mov(__dword_ptr[Scratch + 0x10], eax);
        a.db(0x2E); // CS: saved RBX lies at SMBASE+0xFFE0
        a.mov(__dword_ptr[0xFFE0], 0x1234_5678);
        a.db(0x2E);
        a.mov(__dword_ptr[0xFFE4], 0);
        a.rsm();
    }

    /// <summary>RSM put every register back (RBX as the handler rewrote it in the map); RIP is past the second HLT.</summary>
    private static void AssertRestoredByRsm(CpuSnapshot before, CpuSnapshot after)
    {
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(i == Gpr.Rbx ? 0x1234_5678UL : before.Gprs[i], after.Gprs[i]);
        }

        Assert.Equal(before.Rip + 1, after.Rip);
        AssertSameNonGprState(before, after);
    }

    /// <summary>Every field of the save map but the GPRs and RIP: flags, control and debug registers, EFER, segments, tables, CPL.</summary>
    internal static void AssertSameNonGprState(CpuSnapshot expected, CpuSnapshot actual)
    {
        Assert.Equal(expected.RFlags, actual.RFlags);
        Assert.Equal(expected.ControlRegisters, actual.ControlRegisters);
        Assert.Equal(expected.Efer, actual.Efer);
        Assert.Equal(expected.DebugRegisters[6], actual.DebugRegisters[6]);
        Assert.Equal(expected.DebugRegisters[7], actual.DebugRegisters[7]);
        Assert.Equal(expected.Segments, actual.Segments);
        Assert.Equal(expected.Gdtr, actual.Gdtr);
        Assert.Equal(expected.Idtr, actual.Idtr);
        Assert.Equal(expected.Ldtr, actual.Ldtr);
        Assert.Equal(expected.Tr, actual.Tr);
        Assert.Equal(expected.Cpl, actual.Cpl);
    }

    private static void SetRegisters(Assembler a, bool longMode)
    {
        if (longMode)
        {
            a.mov(rax, unchecked((long)0x1111_2222_3333_4444UL));
            a.mov(rcx, 0x0102_0304_0506_0708L);
            a.mov(r8, unchecked((long)0x8888_0000_0000_0008UL));
            a.mov(r15, unchecked((long)0xF0F0_0000_0000_000FUL));
        }
        else
        {
            a.mov(eax, 0x3333_4444);
            a.mov(ecx, 0x0506_0708);
        }

        a.mov(ebx, 0x0BAD_F00D);
        a.mov(esi, 0x5151_5151);
        a.mov(edi, 0x7171_7171);
        a.mov(ebp, 0x4242_4242);
        a.stc();
        a.std();
        a.hlt();
        a.hlt();
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void Smi_SavesMapAtSmBase_AndRsmRestoresEveryRegister(int bitness)
    {
        using var m = new TestMachine();
        LoadHandler(m, CpuSmm.DefaultSmBase, RecordingHandler);
        m.Load(bitness, a => SetRegisters(a, bitness == 64));
        Assert.Equal(StopReason.Halted, m.Run());
        m.Cpu._dr[6] = 0xFFFF_4FF0;
        var before = m.Cpu.SaveState();

        m.Cpu.RaiseSmi();
        Assert.Equal(StopReason.Halted, m.Run());

        ulong smBase = CpuSmm.DefaultSmBase;
        Assert.Equal(1, m.Cpu.SmmEntries);
        Assert.False(m.Cpu.InSmm);

        // Entry state as do_smm_enter sets it: CR0 without PE/PG, CR4 0, CS = SMBASE >> 4, RFLAGS 2.
        uint cr0 = m.ReadU32(Scratch);
        Assert.Equal(0u, cr0 & 0x8000_000D);
        Assert.Equal((uint)before.ControlRegisters[0] & ~0x8000_000Du, cr0);
        Assert.Equal(0u, m.ReadU32(Scratch + 4));
        Assert.Equal(smBase >> 4, m.Bus.Read(Scratch + 8, 2));
        Assert.Equal(2u, m.ReadU32(Scratch + 0xC));
        Assert.Equal((uint)before.Gprs[Gpr.Rax], m.ReadU32(Scratch + 0x10));

        // The map (smm_helper.c, TARGET_X86_64): GPRs, RIP, RFLAGS, control and debug registers, segments.
        for (int i = 0; i < 16; i++)
        {
            if (i != Gpr.Rbx)
            {
                Assert.Equal(before.Gprs[i], m.ReadU64(Field(smBase, 0x7FF8 - (ulong)i * 8)));
            }
        }

        Assert.Equal(before.Rip, m.ReadU64(Field(smBase, 0x7F78)));
        Assert.Equal((uint)before.RFlags, m.ReadU32(Field(smBase, 0x7F70)));
        Assert.Equal(0xFFFF_4FF0u, m.ReadU32(Field(smBase, 0x7F68)));
        Assert.Equal((uint)before.DebugRegisters[7], m.ReadU32(Field(smBase, 0x7F60)));
        Assert.Equal((uint)before.ControlRegisters[0], m.ReadU32(Field(smBase, 0x7F58)));
        Assert.Equal(before.ControlRegisters[2], m.ReadU64(Field(smBase, 0x7F50)));
        Assert.Equal((uint)before.ControlRegisters[3], m.ReadU32(Field(smBase, 0x7F48)));
        Assert.Equal(CpuSmm.DefaultSmBase, m.ReadU32(Field(smBase, 0x7F00)));
        Assert.Equal(CpuSmm.SmmRevisionId64, m.ReadU32(Field(smBase, 0x7EFC)));
        Assert.Equal(before.Efer, m.ReadU64(Field(smBase, 0x7ED0)));
        Assert.Equal(before.Gdtr.Base, m.ReadU64(Field(smBase, 0x7E68)));
        Assert.Equal(before.Gdtr.Limit, m.ReadU32(Field(smBase, 0x7E64)));
        Assert.Equal(before.Idtr.Base, m.ReadU64(Field(smBase, 0x7E88)));
        Assert.Equal(before.Tr.Selector, m.Bus.Read(Field(smBase, 0x7E90), 2));
        Assert.Equal(before.Tr.Limit, m.ReadU32(Field(smBase, 0x7E94)));
        for (int s = 0; s < 6; s++)
        {
            ulong at = Field(smBase, 0x7E00 + (ulong)s * 16);
            Assert.Equal(before.Segments[s].Selector, m.Bus.Read(at, 2));
            Assert.Equal((before.Segments[s].Attributes >> 8) & 0xF0FF, m.Bus.Read(at + 2, 2));
            Assert.Equal(before.Segments[s].Limit, m.ReadU32(at + 4));
            Assert.Equal(before.Segments[s].Base, m.ReadU64(at + 8));
        }

        AssertRestoredByRsm(before, m.Cpu.SaveState());
        Assert.Equal(bitness, m.Cpu.Bitness);
    }

    [Fact]
    public void Smi_WithThe32BitMap_SavesQemuI386LayoutAndRestores()
    {
        using var m = new TestMachine();
        m.Cpu.SmmSaveMap32 = true;
        ulong smBase = CpuSmm.DefaultSmBase;
        LoadHandler(m, smBase, a =>
        {
            a.db(0x2E); // CS: saved EAX lies at SMBASE+0xFFD0 in the 32-bit map
            a.mov(eax, __dword_ptr[0xFFD0]);
            a.mov(__dword_ptr[Scratch], eax);
            a.db(0x2E); // CS: saved EBX at SMBASE+0xFFDC
            a.mov(__dword_ptr[0xFFDC], 0x1234_5678);
            a.db(0x2E); // CS: SMBASE field at SMBASE+0xFEF8
            a.mov(__dword_ptr[0xFEF8], 0x6_0000);
            a.rsm();
        });
        m.LoadProtected32(a => SetRegisters(a, longMode: false));
        Assert.Equal(StopReason.Halted, m.Run());
        var before = m.Cpu.SaveState();

        m.Cpu.RaiseSmi();
        Assert.Equal(StopReason.Halted, m.Run());

        Assert.Equal((uint)before.Gprs[Gpr.Rax], m.ReadU32(Scratch));
        Assert.Equal(CpuSmm.SmmRevisionId32, m.ReadU32(Field(smBase, 0x7EFC)));
        Assert.Equal((uint)before.ControlRegisters[0], m.ReadU32(Field(smBase, 0x7FFC)));
        Assert.Equal((uint)before.ControlRegisters[2], m.ReadU32(Field(smBase, 0x7FF8)));
        Assert.Equal((uint)before.RFlags, m.ReadU32(Field(smBase, 0x7FF4)));
        Assert.Equal((uint)before.Rip, m.ReadU32(Field(smBase, 0x7FF0)));
        Assert.Equal((uint)before.Gprs[Gpr.Rdi], m.ReadU32(Field(smBase, 0x7FEC)));
        Assert.Equal((uint)before.Gprs[Gpr.Rbp], m.ReadU32(Field(smBase, 0x7FE4)));
        Assert.Equal(before.Segments[Seg.Cs].Selector, m.ReadU32(Field(smBase, 0x7FAC)));
        Assert.Equal(before.Segments[Seg.Cs].Limit, m.ReadU32(Field(smBase, 0x7F84 + 12 + 4)));
        Assert.Equal((uint)before.Segments[Seg.Gs].Base, m.ReadU32(Field(smBase, 0x7F2C + 24 + 8)));
        Assert.Equal((uint)before.Gdtr.Base, m.ReadU32(Field(smBase, 0x7F74)));
        Assert.Equal((uint)before.ControlRegisters[3], m.ReadU32(Field(smBase, 0x7F14)));

        AssertRestoredByRsm(before, m.Cpu.SaveState());
        Assert.Equal(0x6_0000u, m.Cpu.SmBase);
        Assert.Equal(32, m.Cpu.Bitness);
    }

    [Fact]
    public void Rsm_WithNewSmBase_RelocatesTheNextSmi()
    {
        using var m = new TestMachine();
        const uint relocated = 0x5_0000;
        LoadHandler(m, CpuSmm.DefaultSmBase, a =>
        {
            a.db(0x2E); // CS: the SMBASE field at SMBASE+0xFF00
            a.mov(__dword_ptr[0xFF00], relocated);
            a.rsm();
        });
        LoadHandler(m, relocated, a =>
        {
            a.mov(__dword_ptr[Scratch], 0xCAFE);
            a.rsm();
        });
        m.LoadLong64(a =>
        {
            a.hlt();
            a.hlt();
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());

        m.Cpu.RaiseSmi();
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(relocated, m.Cpu.SmBase);
        Assert.Equal(0u, m.ReadU32(Scratch));

        m.Cpu.RaiseSmi();
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(0xCAFEu, m.ReadU32(Scratch));
        Assert.Equal(relocated, m.ReadU32(Field(relocated, 0x7F00)));
        Assert.Equal(2, m.Cpu.SmmEntries);
        Assert.Equal(64, m.Cpu.Bitness);
    }

    [Fact]
    public void Rsm_OutsideSmm_RaisesInvalidOpcode()
    {
        using var m = new TestMachine();
        const ulong handler = 0x200000;
        m.Load(handler, TestMachine.Assemble(64, handler, a => a.hlt()));
        SystemTestSupport.InstallLongIdt(m, handler);
        m.LoadLong64(a =>
        {
            a.rsm();
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(Vector.UD, m.Cpu.LastException);
        Assert.Equal(0, m.Cpu.SmmEntries);
    }

    [Fact]
    public void Smi_WhileInSmm_WaitsForRsm()
    {
        using var m = new TestMachine();
        LoadHandler(m, CpuSmm.DefaultSmBase, a =>
        {
            a.inc(__word_ptr[Scratch]);
            a.nop();
            a.nop();
            a.rsm();
        });
        m.LoadLong64(a =>
        {
            a.hlt();
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());

        m.Cpu.RaiseSmi();
        m.Run(2);
        Assert.True(m.Cpu.InSmm);
        m.Cpu.RaiseSmi();
        m.Run(1);
        Assert.True(m.Cpu.InSmm);
        Assert.True(m.Cpu.SmiPending);
        Assert.Equal(1, m.Cpu.SmmEntries);

        Assert.Equal(StopReason.Halted, m.Run());
        Assert.False(m.Cpu.InSmm);
        Assert.False(m.Cpu.SmiPending);
        Assert.Equal(2, m.Cpu.SmmEntries);
        Assert.Equal(2u, m.Bus.Read(Scratch, 2));
    }

    [Fact]
    public void Snapshot_CarriesSmmState()
    {
        using var m = new TestMachine();
        LoadHandler(m, CpuSmm.DefaultSmBase, a =>
        {
            a.nop();
            a.nop();
            a.rsm();
        });
        m.LoadLong64(a => a.hlt());
        m.Run();
        m.Cpu.RaiseSmi();
        m.Run(1);
        m.Cpu.RaiseSmi();
        var saved = m.Cpu.SaveState();
        Assert.True(saved.InSmm);
        Assert.True(saved.SmiPending);

        m.Cpu.Reset();
        Assert.False(m.Cpu.InSmm);
        m.Cpu.RestoreState(saved);
        Assert.True(m.Cpu.InSmm);
        Assert.True(m.Cpu.SmiPending);
        Assert.Equal(CpuSmm.DefaultSmBase, m.Cpu.SmBase);
        Assert.Equal(1, m.Cpu.SmmEntries);
    }
    /// <summary>
    /// SMRAM closed to the normal view (a TSEG-style black hole, QEMU q35.c tseg_blackhole): the
    /// handler reads and writes it, code outside SMM reads all-ones and its writes vanish, and a
    /// snapshot taken in SMM restores the SMM view.
    /// </summary>
    [Fact]
    public void Smram_IsVisibleOnlyInSmm()
    {
        const ulong smram = 0x9000;
        using var m = new TestMachine();
        m.Bus.Write(smram, 4, 0x5EC0_0DE5);
        m.Bus.MapMmioOverlay("tseg-blackhole", smram, 0x1000, PhysicalBus.Blackhole, MemoryView.Normal, enabled: true);
        LoadHandler(m, CpuSmm.DefaultSmBase, a =>
        {
            a.mov(eax, __dword_ptr[smram]);
            a.mov(__dword_ptr[Scratch], eax);
            a.mov(__dword_ptr[smram + 4], 0x0000_A11E);
            a.rsm();
        });
        m.LoadLong64(a =>
        {
            a.mov(__dword_ptr[smram + 8], 0x0BAD);
            a.hlt();
            a.mov(eax, __dword_ptr[smram]);
            a.mov(__dword_ptr[Scratch + 4], eax);
            a.mov(eax, __dword_ptr[smram + 4]);
            a.mov(__dword_ptr[Scratch + 8], eax);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, m.Run());
        m.Cpu.RaiseSmi();
        Assert.Equal(StopReason.Halted, m.Run());

        Assert.Equal(0x5EC0_0DE5u, m.ReadU32(Scratch));
        Assert.Equal(0xFFFF_FFFFu, m.ReadU32(Scratch + 4));
        Assert.Equal(0xFFFF_FFFFu, m.ReadU32(Scratch + 8));
        Assert.False(m.Bus.SmmView);
        m.Bus.SmmView = true;
        Assert.Equal(0x0000_A11Eu, m.ReadU32(smram + 4));
        Assert.Equal(0u, m.ReadU32(smram + 8));
        m.Bus.SmmView = false;

        var outside = m.Cpu.SaveState();
        m.Cpu.RaiseSmi();
        m.Run(1);
        Assert.True(m.Bus.SmmView);
        var inside = m.Cpu.SaveState();
        m.Cpu.RestoreState(outside);
        Assert.False(m.Bus.SmmView);
        m.Cpu.RestoreState(inside);
        Assert.True(m.Bus.SmmView);
        m.Cpu.Reset();
        Assert.False(m.Bus.SmmView);
    }
}
