using Emulator.CpuFuzz.Tests.Fuzzer;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// A VMRUN/#VMEXIT round trip under QEMU 7.2 and emu, compared state by state and in the VMCB
/// and HSAVE bytes (the scratch and stack pages; docs/cpu-svm.md). The host enables EFER.SVME,
/// puts VM_HSAVE_PA on the stack page and runs VMRUN on a VMCB in the scratch page whose
/// intercept vector is zero: the VMRUN check fails (SVM_EXIT_ERR), and that #VMEXIT writes the
/// host's own state into the VMCB's save area. The host then sets ASID 1 and a scenario's
/// intercepts, points the save area's RIP at its guest code and runs VMRUN again: the guest
/// exits at one intercepted instruction or exception (or one exiting without its intercept,
/// VMLOAD), in an STI shadow, with reserved RFLAGS bits, or takes an injected #GP in its own
/// handler, or faults while delivering (an intercepted #GP, a triple fault's shutdown exit).
/// Regressions/*-svm-*.txt (but *-svm-vmload-vmsave.txt) record fourteen of them.
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(HandlerTableCollection.Name)]
public sealed class SvmRecordingTests
{
    private const uint Vmcb = (uint)FuzzLayout.ScratchPage, HostSave = (uint)FuzzLayout.StackPage;

    /// <summary>A guest and what the VMCB sets up for it: intercept vector (exit codes 60h–7Fh), exception intercepts, CR read intercepts, the permission maps on the scratch page, EVENTINJ.</summary>
    private sealed record Scenario(
        Action<Assembler> Guest, uint Intercepts, uint Exceptions = 0, uint CrReads = 0, bool MapsOnScratch = false, uint EventInject = 0, uint RFlags = 0,
        uint CrWrites = 0, uint DrReads = 0, uint HighIntercepts = 0, bool EmptyIdt = false, uint IntCtl = 0);

    /// <summary>64-bit: MOV CR8 both ways under V_INTR_MASKING (V_TPR, not the TPR); 32-bit has no CR8, so CPUID alone.</summary>
    private static void VirtualTpr(Assembler a)
    {
        if (a.Bitness == 64)
        {
            a.mov(eax, 7);
            a.mov(cr8, rax);
            a.mov(rbx, cr8);
        }

        a.cpuid();
    }

    /// <summary>MOV from CR3 to EAX (RAX in 64-bit mode) and back; MOV from DR7.</summary>
    private static void MovFromCr3(Assembler a)
    {
        if (a.Bitness == 64)
        {
            a.mov(rax, cr3);
            a.mov(cr3, rax);
        }
        else
        {
            a.mov(eax, cr3);
            a.mov(cr3, eax);
        }
    }

    private static void MovFromDr7(Assembler a)
    {
        if (a.Bitness == 64)
        {
            a.mov(rax, dr7);
        }
        else
        {
            a.mov(eax, dr7);
        }
    }

    /// <summary>The intercept vector's bit for an exit code: the low dword holds 60h–7Fh, the high dword (<see cref="Scenario.HighIntercepts"/>) 80h–9Fh.</summary>
    private static uint Exit(uint code) => code is >= 0x60 and < 0x80 ? 1u << (int)(code - 0x60) : 1u << (int)(code - 0x80);

    private static readonly Dictionary<string, Scenario> Scenarios = new()
    {
        ["cpuid"] = new(a => { a.mov(ecx, 0x1234); a.cpuid(); }, Exit(0x72)),

        // The I/O map is the scratch page: port 80h's bit is byte 10h, the intercept vector's high dword (1).
        ["io"] = new(a => { a.mov(edx, 0x80); a.@out(dx, al); a.cpuid(); }, Exit(0x7B) | Exit(0x72), MapsOnScratch: true),

        // The MSR map is the scratch page too: STAR's write bit is in byte 820h, a random byte.
        ["msr"] = new(a => { a.mov(ecx, 0xC000_0081); a.wrmsr(); a.cpuid(); }, Exit(0x7C) | Exit(0x72), MapsOnScratch: true),
        ["ud"] = new(a => a.ud2(), 0, Exceptions: 1u << 6),
        ["int"] = new(a => a.@int(0x21), Exit(0x75)),
        ["pushf"] = new(a => { a.nop(); a.pushf(); }, Exit(0x70)),
        ["smsw"] = new(a => a.smsw(eax), 0, CrReads: 1),

        // #GP with error code 55h injected: delivered through the guest's IDT (the host's, saved by the failing VMRUN) to its handler.
        ["inject"] = new(a => a.cpuid(), Exit(0x72), EventInject: 0x8000_0B0D),

        // An exit in the STI shadow: INT_STATE 1 (HF_INHIBIT_IRQ still set).
        ["sti-shadow"] = new(a => { a.sti(); a.cpuid(); }, Exit(0x72)),

        // RFLAGS with reserved bits 3, 5, 15, 22–30 in the VMCB: QEMU keeps them (cpu_load_eflags), PUSHF shows them.
        ["rflags-reserved"] = new(a => { a.pushf(); a.cpuid(); }, Exit(0x72), RFlags: 0x7FC0_802A),
        ["hlt"] = new(a => a.hlt(), Exit(0x78)),
        ["popf"] = new(a => a.popf(), Exit(0x71)),
        ["iret"] = new(a => a.iret(), Exit(0x74)),
        ["rdtsc"] = new(a => a.rdtsc(), Exit(0x6E)),
        ["pause"] = new(a => { a.nop(); a.pause(); }, Exit(0x77)),
        ["wbinvd"] = new(a => a.wbinvd(), 0, HighIntercepts: Exit(0x89)),

        // Not intercepted, WBINVD runs on and the guest reaches the host's VMRUN after it, which exits (always intercepted).
        ["wbinvd-then-vmrun"] = new(a => a.wbinvd(), 0),
        ["invlpg"] = new(a => a.invlpg(a.Bitness == 64 ? __byte_ptr[rbx] : __byte_ptr[ebx]), Exit(0x79)),
        ["vmmcall"] = new(a => a.db(0x0F, 0x01, 0xD9), 0, HighIntercepts: Exit(0x81)),

        // Not intercepted, VMMCALL is #UD, delivered through the guest's IDT to its handler.
        ["vmmcall-ud"] = new(a => a.db(0x0F, 0x01, 0xD9), 0),

        // VMLOAD in a guest exits without its intercept (virtual_vm_load_save_enabled, no nested paging).
        ["vmload"] = new(a => { a.mov(eax, ebx); a.db(0x0F, 0x01, 0xDA); }, 0),

        // An MSR outside the map's three ranges exits whenever the MSR intercept is on.
        ["msr-unmapped"] = new(a => { a.mov(ecx, 0x4000_0000); a.rdmsr(); }, Exit(0x7C), MapsOnScratch: true),

        // REP OUTSB to port 80h (in the map, see "io"): the REP and string bits in EXITINFO1.
        ["io-rep-outs"] = new(a => { a.mov(edx, 0x80); a.mov(ecx, 2); a.rep.outsb(); }, Exit(0x7B), MapsOnScratch: true),

        // #GP(1230h) from a selector past the GDT's limit, intercepted: the error code is EXITINFO1.
        ["gp-intercept"] = new(a => { a.mov(eax, 0x1230); a.mov(ds, ax); }, 0, Exceptions: 1u << 13),
        ["cr3-write"] = new(MovFromCr3, 0, CrWrites: 1 << 3),
        ["dr7-read"] = new(MovFromDr7, 0, DrReads: 1 << 7),

        // INT 21h past the guest IDT's 32 vectors: #GP(10Ah) while delivering, intercepted; EXITINTINFO holds the INT (SOFT, VALID).
        ["gp-while-delivering"] = new(a => a.@int(0x21), 0, Exceptions: 1u << 13),

        // #UD with an empty guest IDT: every delivery faults, the triple fault is a shutdown #VMEXIT.
        ["shutdown"] = new(a => a.ud2(), 0, EmptyIdt: true),
        ["v-tpr"] = new(VirtualTpr, Exit(0x72), IntCtl: (1u << 24) | 3),
    };

    public static TheoryData<FuzzMode, string> Cases()
    {
        var data = new TheoryData<FuzzMode, string>();
        foreach (var mode in (FuzzMode[])[FuzzMode.Long64, FuzzMode.Protected32])
        {
            foreach (string name in Scenarios.Keys)
            {
                data.Add(mode, name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void VmrunRoundTripAgreesWithQemu(FuzzMode mode, string scenario)
    {
        FuzzEnvironment.RequireQemu();
        var gprs = Enumerable.Range(0, 16).Select(i => 0x0101010101010101UL * (ulong)i).ToArray();
        gprs[4] = FuzzLayout.StackStart;
        var fuzzCase = new FuzzCase(mode, gprs, 2, new UInt128[16], 0x1F80, 11, [EnableSvm(mode), FailingVmrun(mode), GuestRun(mode, Scenarios[scenario])]);
        var divergence = DifferentialFuzzer.Check(fuzzCase, out var qemu);
        Assert.True(divergence == null, divergence?.Report($"the SVM round trip {scenario}"));
        string text = RegressionFile.Write(fuzzCase, qemu, $"{mode}: VMRUN failing its checks (SVM_EXIT_ERR), then VMRUN into a guest ({scenario}), recorded from QEMU 7.2");
        if (FuzzEnvironment.OutputFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, $"{mode}-svm-{scenario}.txt"), text);
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

    /// <summary>ASID 1, V_INTR control 0, the scenario's intercepts (VMRUN's always), maps and event, RIP at the guest; VMRUN; the host goes on after the exit.</summary>
    private static FuzzItem GuestRun(FuzzMode mode, Scenario scenario)
    {
        var a = Begin(mode);
        var afterGuest = a.CreateLabel();
        a.mov(ebx, Vmcb);
        (int Offset, uint Value)[] fields =
        [
            (0x58, 1), (0x60, scenario.IntCtl), (0xC, scenario.Intercepts), (0x10, 1 | scenario.HighIntercepts), (0x8, scenario.Exceptions), (0x0, scenario.CrReads | (scenario.CrWrites << 16)),
            (0x4, scenario.DrReads),
            (0xA8, scenario.EventInject), (0xAC, 0x55),
        ];
        if (scenario.RFlags != 0)
        {
            fields = [.. fields, (0x570, scenario.RFlags)];
        }

        if (scenario.EmptyIdt)
        {
            fields = [.. fields, (0x484, 0)];
        }

        foreach (var (offset, value) in fields)
        {
            a.mov(edx, value);
            Store(a, mode, offset, edx);
        }

        if (scenario.MapsOnScratch)
        {
            Store(a, mode, 0x40, ebx);
            Store(a, mode, 0x48, ebx);
        }

        a.call(afterGuest);
        scenario.Guest(a);
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
