using Emulator.Core.Cpu;
using Iced.Intel;

namespace Emulator.Core.Tests.Support;

/// <summary>
/// Runs single instructions (or short sequences) for the ALU tests: one <see cref="TestMachine"/>
/// in 16-bit real, 32-bit protected or 64-bit long mode, reused across runs, with every exception
/// vector pointing at a HLT so a fault ends the run and is reported by vector. Code goes to
/// <see cref="CodeAt"/>, data to <see cref="DataAt"/>; registers and flags are set directly.
/// </summary>
public sealed class AluSandbox : IDisposable
{
    public const ulong CodeAt = 0x100000;
    public const ulong DataAt = 0x200000;
    private const ulong IdtAt = 0x3000;
    private const ulong FaultStub = 0x5000;

    private readonly TestMachine _m = new();

    public AluSandbox(int bitness = 64)
    {
        Bitness = bitness;
        _m.Load(FaultStub, [0xF4]);
        switch (bitness)
        {
            case 64:
                _m.EnterLong64(CodeAt);
                for (ulong v = 0; v < 32; v++)
                {
                    // 64-bit interrupt gate: offset 15:0, selector, type 0x8E, offset 31:16, offset 63:32.
                    _m.WriteU64(IdtAt + v * 16, (FaultStub & 0xFFFF) | ((ulong)TestMachine.Code64 << 16) | (0x8EUL << 40) | ((FaultStub >> 16) << 48));
                    _m.WriteU64(IdtAt + v * 16 + 8, FaultStub >> 32);
                }

                Cpu._idtr = new TableRegister { Base = IdtAt, Limit = 32 * 16 - 1 };
                break;
            case 32:
                _m.EnterProtected32(CodeAt);
                for (ulong v = 0; v < 32; v++)
                {
                    _m.WriteU64(IdtAt + v * 8, (FaultStub & 0xFFFF) | ((ulong)TestMachine.Code32 << 16) | (0x8EUL << 40) | ((FaultStub >> 16) << 48));
                }

                Cpu._idtr = new TableRegister { Base = IdtAt, Limit = 32 * 8 - 1 };
                break;
            default:
                _m.EnterReal(0, (ushort)(CodeAt & 0xFFFF));
                for (ulong v = 0; v < 32; v++)
                {
                    _m.Bus.Write(v * 4, 4, FaultStub);
                }

                break;
        }
    }

    public int Bitness { get; }

    public global::Emulator.Core.Cpu.Cpu Cpu => _m.Cpu;

    public TestMachine Machine => _m;

    /// <summary>The vector of the fault the last run raised, or -1.</summary>
    public int Fault { get; private set; } = -1;

    /// <summary>Where code is placed: real mode runs it at 0:8000 (linear 0x8000), the others at <see cref="CodeAt"/>.</summary>
    public ulong CodeLinear => Bitness == 16 ? 0x8000 : CodeAt;

    /// <summary>Assembles <paramref name="build"/> for this sandbox's mode, followed by HLT.</summary>
    public byte[] Assemble(Action<Assembler> build) =>
        TestMachine.Assemble(Bitness, CodeLinear, a =>
        {
            build(a);
            a.hlt();
        });

    /// <summary>
    /// Runs <paramref name="code"/> (which must end in HLT) with the general registers cleared,
    /// then set by <paramref name="setup"/>, and RFLAGS = <paramref name="flags"/>. Returns false
    /// when the code faulted (<see cref="Fault"/> names the vector).
    /// </summary>
    public bool Run(byte[] code, Action<global::Emulator.Core.Cpu.Cpu>? setup = null, ulong flags = RFlags.Reserved1, long maxInstructions = 1000)
    {
        // Writing the code invalidates whatever was decoded from that page before.
        _m.Load(CodeLinear, code);
        for (int i = 0; i < 16; i++)
        {
            Cpu._gpr[i] = 0;
        }

        Cpu._gpr[Gpr.Rsp] = Bitness == 16 ? 0x7000UL : TestMachine.StackTop;
        Cpu._rip = Bitness == 16 ? 0x8000UL : CodeAt;
        Cpu.RFlagsValue = flags;
        Cpu._halted = false;
        setup?.Invoke(Cpu);
        long faults = Cpu.ExceptionCount;
        var stop = _m.Run(maxInstructions);
        if (stop != StopReason.Halted)
        {
            throw new InvalidOperationException($"run ended with {stop}: {Cpu.StopDetail}");
        }

        Fault = Cpu.ExceptionCount != faults ? Cpu.LastException : -1;
        return Fault < 0;
    }

    /// <summary>Assembles and runs; see <see cref="Run(byte[], Action{global::Emulator.Core.Cpu.Cpu}?, ulong)"/>.</summary>
    public bool Run(Action<Assembler> build, Action<global::Emulator.Core.Cpu.Cpu>? setup = null, ulong flags = RFlags.Reserved1) =>
        Run(Assemble(build), setup, flags);

    public ulong Reg(int index) => Cpu._gpr[index];

    public ulong Flags => Cpu.RFlagsValue;

    public void WriteData(ulong offset, ReadOnlySpan<byte> bytes) => _m.Load(DataAt + offset, bytes);

    public ulong ReadData(ulong offset, int size) => _m.Bus.Read(DataAt + offset, size);

    public void Dispose() => _m.Dispose();
}
