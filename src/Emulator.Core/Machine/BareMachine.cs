using Emulator.Core.Cpu;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Machine;

/// <summary>
/// RAM, a port bus and a CPU, nothing else: the machine for guest programs assembled at test or
/// benchmark time. Helpers put the CPU straight into real mode, 32-bit flat protected mode, or
/// 64-bit long mode (GDT at <see cref="GdtBase"/>, identity-mapped 2 MiB pages for the first
/// 4 GiB at <see cref="PageTables"/>), so a program starts where it needs to.
/// </summary>
public sealed unsafe class BareMachine : IDisposable
{
    public const ulong DefaultRamSize = 32UL << 20;
    public const ulong GdtBase = 0x1000;
    public const ulong PageTables = 0x10000;
    public const ushort Code32 = 0x08, Data32 = 0x10, Code64 = 0x18, Code16 = 0x20, Data16 = 0x28;
    public const ulong StackTop = 0x80000;

    public BareMachine(ulong ramSize = DefaultRamSize, CpuModel? model = null)
    {
        Bus = new PhysicalBus();
        Ram = Bus.Allocate(ramSize);
        Bus.MapRam("ram", 0, ramSize, Ram);
        Ports = new PortBus(Bus.Unassigned);
        Cpu = new Cpu.Cpu(Bus, Ports, model);
    }

    public PhysicalBus Bus { get; }

    public PortBus Ports { get; }

    public Cpu.Cpu Cpu { get; }

    public byte* Ram { get; }

    public void Load(ulong address, ReadOnlySpan<byte> bytes) => Bus.WriteBlock(address, bytes);

    /// <summary>Real mode at CS:IP with SS:SP = 0:0x7000 and the IVT at 0.</summary>
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

    public void WriteGdt()
    {
        Bus.Write(GdtBase + 0x00, 8, 0);
        Bus.Write(GdtBase + Code32, 8, 0x00CF9B000000FFFF);
        Bus.Write(GdtBase + Data32, 8, 0x00CF93000000FFFF);
        Bus.Write(GdtBase + Code64, 8, 0x00AF9B000000FFFF);
        Bus.Write(GdtBase + Code16, 8, 0x00009B000000FFFF);
        Bus.Write(GdtBase + Data16, 8, 0x000093000000FFFF);
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

    /// <summary>Identity-maps the first 4 GiB with 2 MiB pages (writable, executable).</summary>
    public void WriteIdentityPageTables()
    {
        ulong pml4 = PageTables, pdpt = PageTables + 0x1000, pd = PageTables + 0x2000;
        Bus.Write(pml4, 8, pdpt | 3);
        for (ulong i = 0; i < 4; i++)
        {
            Bus.Write(pdpt + i * 8, 8, (pd + i * 0x1000) | 3);
            for (ulong j = 0; j < 512; j++)
            {
                Bus.Write(pd + i * 0x1000 + j * 8, 8, ((i * 512 + j) << 21) | 0x83);
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

    public void Dispose() => Bus.Dispose();
}
