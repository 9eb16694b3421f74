using Emulator.Core.Cpu;
using Emulator.Core.Io;
using Emulator.Core.Machine;
using Emulator.Core.Memory;
using Iced.Intel;

namespace Emulator.Core.Tests.Support;

/// <summary>
/// A <see cref="BareMachine"/> plus a test port (0xE9 collects output bytes, 0xF4 ends the run
/// with an exit code) and Iced's Assembler: guest programs are assembled at test time, loaded,
/// and started in the mode they need. Programs end with HLT (the run stops: interrupts are off)
/// or report through the port.
/// </summary>
public sealed unsafe class TestMachine : IDisposable
{
    public const ulong RamSize = BareMachine.DefaultRamSize;
    public const ulong GdtBase = BareMachine.GdtBase;
    public const ulong PageTables = BareMachine.PageTables;
    public const ushort Code32 = BareMachine.Code32, Data32 = BareMachine.Data32, Code64 = BareMachine.Code64;
    public const ushort Code16 = BareMachine.Code16, Data16 = BareMachine.Data16;
    public const ulong StackTop = BareMachine.StackTop;

    private readonly BareMachine _machine;

    public TestMachine(ulong ramSize = RamSize, CpuModel? model = null)
    {
        _machine = new BareMachine(ramSize, model);
        if (Environment.GetEnvironmentVariable("EMU_TEST_COMPILE_ALL") == "1")
        {
            // CI's second pass of this suite: every block compiled from its second run, on the
            // spot, so each test also checks the block compiler against the same expectations.
            Cpu.CompileThreshold = 1;
            Cpu.CompileSynchronously = true;
        }

        Port = new TestPort(Cpu);
        Ports.Register(0xE9, 1, Port);
        Ports.Register(0xF4, 1, Port.ExitPort);
    }

    public PhysicalBus Bus => _machine.Bus;

    public PortBus Ports => _machine.Ports;

    public global::Emulator.Core.Cpu.Cpu Cpu => _machine.Cpu;

    public TestPort Port { get; }

    public byte* Ram => _machine.Ram;

    public static byte[] Assemble(int bitness, ulong ip, Action<Assembler> build)
    {
        var a = new Assembler(bitness);
        build(a);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), ip);
        return stream.ToArray();
    }

    public void Load(ulong address, ReadOnlySpan<byte> bytes) => _machine.Load(address, bytes);

    public void WriteU64(ulong address, ulong value) => Bus.Write(address, 8, value);

    public ulong ReadU64(ulong address) => Bus.Read(address, 8);

    public uint ReadU32(ulong address) => (uint)Bus.Read(address, 4);

    public void EnterReal(ushort cs, ushort ip) => _machine.EnterReal(cs, ip);

    /// <summary>Assembles and loads a 16-bit program at 0x8000, entering real mode there.</summary>
    public void LoadReal(Action<Assembler> build)
    {
        Load(0x8000, Assemble(16, 0x8000, build));
        EnterReal(0, 0x8000);
    }

    public void WriteGdt() => _machine.WriteGdt();

    public void EnterProtected32(ulong eip) => _machine.EnterProtected32(eip);

    public void LoadProtected32(Action<Assembler> build, ulong at = 0x100000)
    {
        Load(at, Assemble(32, at, build));
        EnterProtected32(at);
    }

    public void WriteIdentityPageTables() => _machine.WriteIdentityPageTables();

    public void EnterLong64(ulong rip) => _machine.EnterLong64(rip);

    public void LoadLong64(Action<Assembler> build, ulong at = 0x100000)
    {
        Load(at, Assemble(64, at, build));
        EnterLong64(at);
    }

    /// <summary>Loads a program the way <see cref="LoadReal"/>, <see cref="LoadProtected32"/> or <see cref="LoadLong64"/> does, by <paramref name="bitness"/> (16, 32, 64).</summary>
    public void Load(int bitness, Action<Assembler> build)
    {
        switch (bitness)
        {
            case 16:
                LoadReal(build);
                break;
            case 32:
                LoadProtected32(build);
                break;
            default:
                LoadLong64(build);
                break;
        }
    }

    /// <summary>CR4.OSFXSR and OSXMMEXCPT set, as firmware does before its first SSE instruction (without them SSE forms #UD).</summary>
    public void EnableSse() => Cpu.WriteCr4(Cpu._cr4 | CrBits.Cr4OsFxsr | (1UL << 10));

    public StopReason Run(long maxInstructions = 10_000_000) => Cpu.Run(Cpu.InstructionCount + maxInstructions);

    public void Dispose() => _machine.Dispose();
}
