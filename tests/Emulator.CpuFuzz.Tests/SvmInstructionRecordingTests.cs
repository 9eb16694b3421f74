using Emulator.CpuFuzz.Tests.Fuzzer;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// The SVM instructions outside a guest against QEMU 7.2: each #UD without EFER.SVME (in real
/// mode as well), and with SVME set VMLOAD from the scratch page's random bytes (FS, GS, TR,
/// LDTR with random attributes and bases, canonicalised), VMSAVE of them into the stack page,
/// STGI, CLGI and INVLPGA, then VMMCALL, which is #UD outside a guest.
/// Regressions/*-svm-vmload-vmsave.txt are the recordings of the latter.
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(HandlerTableCollection.Name)]
public sealed class SvmInstructionRecordingTests
{
    public static TheoryData<FuzzMode, int> WithoutSvme()
    {
        var data = new TheoryData<FuzzMode, int>();
        foreach (var mode in (FuzzMode[])[FuzzMode.Long64, FuzzMode.Protected32, FuzzMode.Real16])
        {
            for (int n = 0; n < 8; n++)
            {
                data.Add(mode, n);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WithoutSvme))]
    public void WithoutSvme_EachIsUdAsInQemu(FuzzMode mode, int n)
    {
        FuzzEnvironment.RequireQemu();
        var a = new Assembler(mode.Bitness());
        a.db(0x0F, 0x01, (byte)(0xD8 + n));
        var divergence = DifferentialFuzzer.Check(Case(mode, new FuzzItem([.. a.Instructions])), out var qemu);
        Assert.True(divergence == null, divergence?.Report($"0F 01 {0xD8 + n:X2} without SVME"));
        Assert.Equal(6, qemu[^1].Vector);
    }

    [Theory]
    [InlineData(FuzzMode.Long64)]
    [InlineData(FuzzMode.Protected32)]
    public void VmloadVmsaveAndGifAgreeWithQemu(FuzzMode mode)
    {
        FuzzEnvironment.RequireQemu();
        var a = new Assembler(mode.Bitness());
        a.mov(ecx, 0xC000_0080);
        a.rdmsr();
        a.or(eax, 1 << 12);
        a.wrmsr();
        a.mov(eax, (uint)FuzzLayout.ScratchPage);
        a.db(0x0F, 0x01, 0xDA);
        a.mov(eax, (uint)FuzzLayout.StackPage);
        a.db(0x0F, 0x01, 0xDB);
        a.db(0x0F, 0x01, 0xDD);
        a.db(0x0F, 0x01, 0xDC);
        a.db(0x0F, 0x01, 0xDF);
        a.db(0x0F, 0x01, 0xD9);
        var fuzzCase = Case(mode, new FuzzItem([.. a.Instructions]));
        var divergence = DifferentialFuzzer.Check(fuzzCase, out var qemu);
        Assert.True(divergence == null, divergence?.Report("VMLOAD/VMSAVE/STGI/CLGI/INVLPGA/VMMCALL"));
        Assert.Equal(6, qemu[^1].Vector);
        string text = RegressionFile.Write(fuzzCase, qemu, $"{mode}: VMLOAD of random bytes, VMSAVE, CLGI, STGI, INVLPGA, VMMCALL (#UD outside a guest), recorded from QEMU 7.2");
        if (FuzzEnvironment.OutputFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, $"{mode}-svm-vmload-vmsave.txt"), text);
        }

        RecordingTests.AssertReplays(text, qemu.Count);
    }

    private static FuzzCase Case(FuzzMode mode, FuzzItem item)
    {
        var gprs = Enumerable.Range(0, 16).Select(i => 0x0202020202020202UL * (ulong)i).ToArray();
        gprs[4] = mode == FuzzMode.Real16 ? 0x800 : FuzzLayout.StackStart;
        return new FuzzCase(mode, gprs, 2, new UInt128[16], 0x1F80, 23, [item]);
    }
}
