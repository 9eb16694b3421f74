using Emulator.Core.Cpu;
using Emulator.Core.Io;
using Emulator.Core.Memory;
using Iced.Intel;

namespace Emulator.Core.Tests.Support;

/// <summary>
/// A bare machine for guest programs assembled at test time with Iced's Assembler: RAM at 0,
/// a test port device (0xE9 collects output bytes, 0xF4 ends the run with an exit code), and
/// helpers that put the CPU straight into real, 32-bit flat protected, or 64-bit long mode.
/// Programs either end with HLT (the run stops: interrupts are off) or report through the port.
/// </summary>
public sealed unsafe class TestMachine : IDisposable
{
    public const ulong RamSize = 32UL << 20;
    public const ulong GdtBase = 0x1000;
    public const ulong PageTables = 0x10000;
    public const ushort Code32 = 0x08, Data32 = 0x10, Code64 = 0x18, Code16 = 0x20, Data16 = 0x28;
    public const ulong StackTop = 0x80000;

    public TestMachine(ulong ramSize = RamSize)
    {
        Bus = new PhysicalBus();
        Ram = Bus.Allocate(ramSize);
        Bus.MapRam("ram", 0, ramSize, Ram);
        Ports = new PortBus(Bus.Unassigned);
        Cpu = new global::Emulator.Core.Cpu.Cpu(Bus, Ports);
        Port = new TestPort(Cpu);
        Ports.Register(0xE9, 1, Port);
        Ports.Register(0xF4, 1, Port.ExitPort);
    }

    public PhysicalBus Bus { get; }

    public PortBus Ports { get; }

    public global::Emulator.Core.Cpu.Cpu Cpu { get; }

    public TestPort Port { get; }

    public byte* Ram { get; }

    public static byte[] Assemble(int bitness, ulong ip, Action<Assembler> build)
    {
        var a = new Assembler(bitness);
        build(a);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), ip);
        return stream.ToArray();
    }

    public void Load(ulong address, ReadOnlySpan<byte> bytes) => Bus.WriteBlock(address, bytes);

    public void WriteU64(ulong address, ulong value) => Bus.Write(address, 8, value);

    public ulong ReadU64(ulong address) => Bus.Read(address, 8);

    public uint ReadU32(ulong address) => (uint)Bus.Read(address, 4);

    /// <summary>Real mode at CS:IP with SS:SP = 0:0x7000.</summary>
    public void EnterReal(ushort cs, ushort ip)
    {
        Cpu.LoadCodeSegment(cs, 0);
        Cpu._rip = ip;
        Cpu.LoadSegment(Seg.Ss, 0);
        Cpu.LoadSegment(Seg.Ds, 0);
        Cpu.LoadSegment(Seg.Es, 0);
        Cpu._gpr[Gpr.Rsp] = 0x7000;
        Cpu._idtr = new TableRegister { Base = 0, Limit = 0x3FF };
    }

    /// <summary>Assembles and loads a 16-bit program at 0x8000, entering real mode there.</summary>
    public void LoadReal(Action<Assembler> build)
    {
        Load(0x8000, Assemble(16, 0x8000, build));
        EnterReal(0, 0x8000);
    }

    public void WriteGdt()
    {
        WriteU64(GdtBase + 0x00, 0);
        WriteU64(GdtBase + Code32, 0x00CF9B000000FFFF);
        WriteU64(GdtBase + Data32, 0x00CF93000000FFFF);
        WriteU64(GdtBase + Code64, 0x00AF9B000000FFFF);
        WriteU64(GdtBase + Code16, 0x00009B000000FFFF);
        WriteU64(GdtBase + Data16, 0x000093000000FFFF);
        Cpu._gdtr = new TableRegister { Base = GdtBase, Limit = 0x2F };
    }

    /// <summary>32-bit flat protected mode, paging off, at <paramref name="eip"/>.</summary>
    public void EnterProtected32(ulong eip)
    {
        WriteGdt();
        Cpu.WriteCr0(Cpu._cr0 | CrBits.PE);
        Cpu.LoadCodeSegment(Code32, 0);
        foreach (int s in new[] { Seg.Ds, Seg.Es, Seg.Ss, Seg.Fs, Seg.Gs })
        {
            Cpu.LoadSegment(s, Data32);
        }

        Cpu._rip = eip;
        Cpu._gpr[Gpr.Rsp] = StackTop;
    }

    public void LoadProtected32(Action<Assembler> build, ulong at = 0x100000)
    {
        Load(at, Assemble(32, at, build));
        EnterProtected32(at);
    }

    /// <summary>Identity-maps the first 4 GiB with 2 MiB pages (writable, executable) at <see cref="PageTables"/>.</summary>
    public void WriteIdentityPageTables()
    {
        ulong pml4 = PageTables, pdpt = PageTables + 0x1000, pd = PageTables + 0x2000;
        WriteU64(pml4, pdpt | 3);
        for (ulong i = 0; i < 4; i++)
        {
            WriteU64(pdpt + i * 8, (pd + i * 0x1000) | 3);
            for (ulong j = 0; j < 512; j++)
            {
                WriteU64(pd + i * 0x1000 + j * 8, ((i * 512 + j) << 21) | 0x83);
            }
        }
    }

    /// <summary>64-bit long mode with identity paging, at <paramref name="rip"/>.</summary>
    public void EnterLong64(ulong rip)
    {
        EnterProtected32(0);
        WriteIdentityPageTables();
        Cpu.WriteCr4(Cpu._cr4 | CrBits.Cr4Pae);
        Cpu.WriteCr3(PageTables);
        Cpu.WriteEfer(CrBits.EferLme);
        Cpu.WriteCr0(Cpu._cr0 | CrBits.PG);
        Cpu.LoadCodeSegment(Code64, 0);
        Cpu._rip = rip;
        Cpu._gpr[Gpr.Rsp] = StackTop;
    }

    public void LoadLong64(Action<Assembler> build, ulong at = 0x100000)
    {
        Load(at, Assemble(64, at, build));
        EnterLong64(at);
    }

    public StopReason Run(long maxInstructions = 10_000_000) => Cpu.Run(Cpu.InstructionCount + maxInstructions);

    public void Dispose() => Bus.Dispose();
}
