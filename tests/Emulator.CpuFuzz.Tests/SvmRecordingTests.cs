using Emulator.CpuFuzz.Tests.Fuzzer;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// A VMRUN/#VMEXIT round trip under QEMU 7.2 and emu, compared state by state and in the VMCB
/// and HSAVE bytes (the scratch and stack pages; docs/cpu-svm.md). The host enables EFER.SVME,
/// puts VM_HSAVE_PA on the stack page and runs VMRUN on a VMCB in the scratch page whose
/// intercept vector is zero: the VMRUN check fails (SVM_EXIT_ERR), and that #VMEXIT writes the
/// host's own state into the VMCB's save area. The host then sets ASID 1 and the VMRUN and CPUID
/// intercepts, points the save area's RIP at a guest CPUID and runs VMRUN again: the guest
/// exits at the CPUID. Regressions/*-svm-round-trip.txt are these recordings.
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(HandlerTableCollection.Name)]
public sealed class SvmRecordingTests
{
    private const uint Vmcb = (uint)FuzzLayout.ScratchPage, HostSave = (uint)FuzzLayout.StackPage;

    [Theory]
    [InlineData(FuzzMode.Long64)]
    [InlineData(FuzzMode.Protected32)]
    public void VmrunRoundTripAgreesWithQemu(FuzzMode mode)
    {
        FuzzEnvironment.RequireQemu();
        var gprs = Enumerable.Range(0, 16).Select(i => 0x0101010101010101UL * (ulong)i).ToArray();
        gprs[4] = FuzzLayout.StackStart;
        var fuzzCase = new FuzzCase(mode, gprs, 2, new UInt128[16], 0x1F80, 11, [EnableSvm(mode), FailingVmrun(mode), GuestRun(mode)]);
        var divergence = DifferentialFuzzer.Check(fuzzCase, out var qemu);
        Assert.True(divergence == null, divergence?.Report("the SVM round trip"));
        Assert.Equal(-1, qemu[^1].Vector);
        string text = RegressionFile.Write(fuzzCase, qemu, $"{mode}: VMRUN failing its checks (SVM_EXIT_ERR), then VMRUN into a guest that exits at an intercepted CPUID, recorded from QEMU 7.2");
        if (FuzzEnvironment.OutputFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, $"{mode}-svm-round-trip.txt"), text);
        }

        RecordingTests.AssertReplays(text, qemu.Count);
    }

    private static Assembler Begin(FuzzMode mode) => new(mode.Bitness());

    /// <summary>WRMSR EFER |= SVME, VM_HSAVE_PA = the stack page.</summary>
    private static FuzzItem EnableSvm(FuzzMode mode)
    {
        var a = Begin(mode);
        a.mov(ecx, 0xC000_0080);
        a.rdmsr();
        a.or(eax, 1 << 12);
        a.wrmsr();
        a.mov(ecx, 0xC001_0117);
        a.mov(eax, HostSave);
        a.xor(edx, edx);
        a.wrmsr();
        return new FuzzItem([.. a.Instructions]);
    }

    /// <summary>Zero the intercepts, permission-map bases and nested-paging control (the page's bytes are random), then VMRUN: SVM_EXIT_ERR.</summary>
    private static FuzzItem FailingVmrun(FuzzMode mode)
    {
        var a = Begin(mode);
        a.mov(ebx, Vmcb);
        a.xor(edx, edx);
        foreach (int offset in (int[])[0x0, 0x4, 0x8, 0xC, 0x10, 0x40, 0x44, 0x48, 0x4C, 0x90, 0x94])
        {
            Store(a, mode, offset, edx);
        }

        a.mov(eax, ebx);
        a.db(0x0F, 0x01, 0xD8);
        return new FuzzItem([.. a.Instructions]);
    }

    /// <summary>ASID 1, V_INTR control 0, the VMRUN and CPUID intercepts, RIP at the guest's CPUID; VMRUN; the host goes on after the exit.</summary>
    private static FuzzItem GuestRun(FuzzMode mode)
    {
        var a = Begin(mode);
        var afterGuest = a.CreateLabel();
        a.mov(ebx, Vmcb);
        a.mov(edx, 1);
        Store(a, mode, 0x58, edx);
        a.xor(edx, edx);
        Store(a, mode, 0x60, edx);
        a.mov(edx, 1 << (0x72 - 0x60));
        Store(a, mode, 0xC, edx);
        a.mov(edx, 1);
        Store(a, mode, 0x10, edx);
        a.call(afterGuest);
        a.mov(ecx, 0x1234);
        a.cpuid();
        a.Label(ref afterGuest);
        if (mode == FuzzMode.Long64)
        {
            a.pop(rax);
            a.mov(__qword_ptr[rbx + 0x578], rax);
        }
        else
        {
            a.pop(eax);
            a.mov(__dword_ptr[ebx + 0x578], eax);
            a.mov(__dword_ptr[ebx + 0x57C], 0);
        }

        a.mov(eax, ebx);
        a.db(0x0F, 0x01, 0xD8);
        a.nop();
        return SystemForms.ItemWithLocalTargets(a);
    }

    private static void Store(Assembler a, FuzzMode mode, int offset, AssemblerRegister32 value)
    {
        if (mode == FuzzMode.Long64)
        {
            a.mov(__dword_ptr[rbx + offset], value);
        }
        else
        {
            a.mov(__dword_ptr[ebx + offset], value);
        }
    }
}
