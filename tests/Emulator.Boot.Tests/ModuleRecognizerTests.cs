using System.Buffers.Binary;
using Emulator.Hosting.Boot;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;
using Emulator.Firmware;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Boot.Tests;

/// <summary>
/// The module recognizer on a bare machine: a real module of Debian's 2 MB build, copied into
/// RAM as a loader would place it, is recognised when its entry is decoded. Debian's runtime
/// drivers are linked with their PE header at e_lfanew 0xE58, past the first 0x400 bytes; a
/// header moved beyond what any module of the image spans, or a wild e_lfanew, is not read.
/// </summary>
[Trait("Category", "Fixture")]
public class ModuleRecognizerTests
{
    private const ulong ImageBase = 0x200000;
    private const int DosLfanewOffset = 0x3C;
    private const int Loops = 10;

    private static readonly IReadOnlyList<FirmwareModule> Modules =
        FirmwareImage.Parse(File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M))).Modules;

    [Fact]
    public void AModuleWhosePeHeaderSitsPast0x400IsRecognisedWithItsEntryAndCount()
    {
        FirmwareModule module = Modules.First(m => m.Image.Format == PeImageFormat.Pe32Plus && HeaderOffset(m) > 0x400);
        using var machine = new BareMachine();
        var recognizer = Load(machine, module.ImageSection.Data.ToArray(), module);

        Assert.Equal(StopReason.Halted, machine.Cpu.Run(1000));

        var start = Assert.Single(recognizer.Started);
        Assert.Same(module, start.Module);
        Assert.Equal(ImageBase, start.HeaderAddress);
        Assert.Equal(ImageBase + module.Image.AddressOfEntryPoint, start.Entry);
        Assert.Equal(0, start.Instruction);

        // mov, (dec, jnz) x Loops, hlt: every instruction of the run ran inside the image.
        Assert.Equal(2 + (2 * Loops), start.Inside.Instructions);
        Assert.Equal(machine.Cpu.InstructionCount, start.Inside.Instructions);
    }

    [Fact]
    public void AHeaderMovedFurtherThanAnyModuleOfTheImageSpansIsNotRead()
    {
        FirmwareModule module = Modules.First(m => m.Image.Format == PeImageFormat.Pe32Plus);
        int extent = Modules.Max(m => m.Image.HeaderExtent);
        byte[] image = module.ImageSection.Data.ToArray();
        int lfanew = HeaderOffset(module);
        int moved = (int)module.Image.SizeOfImage;
        Assert.True(moved > extent);
        byte[] relocated = new byte[moved + extent];
        image.CopyTo(relocated, 0);
        image.AsSpan(lfanew, module.Image.HeaderExtent - lfanew).CopyTo(relocated.AsSpan(moved));
        BinaryPrimitives.WriteInt32LittleEndian(relocated.AsSpan(DosLfanewOffset), moved);
        Assert.True(PeImageInfo.TryParse(relocated, out var parsed), "the relocated header is a valid one");
        Assert.Equal(module.Image.AddressOfEntryPoint, parsed!.AddressOfEntryPoint);
        using var machine = new BareMachine();
        var recognizer = Load(machine, relocated, module);

        Assert.Equal(StopReason.Halted, machine.Cpu.Run(1000));

        Assert.Empty(recognizer.Started);
    }

    [Fact]
    public void AWildLfanewIsNotFollowed()
    {
        FirmwareModule module = Modules.First(m => m.Image.Format == PeImageFormat.Pe32Plus);
        byte[] image = module.ImageSection.Data.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(DosLfanewOffset), 0xFFFF_FFF0);
        using var machine = new BareMachine();
        var recognizer = Load(machine, image, module);

        Assert.Equal(StopReason.Halted, machine.Cpu.Run(1000));

        Assert.Empty(recognizer.Started);
    }

    private static int HeaderOffset(FirmwareModule m) =>
        BinaryPrimitives.ReadInt32LittleEndian(m.ImageSection.Data.Span[DosLfanewOffset..]);

    /// <summary>The image at <see cref="ImageBase"/>, a counted loop at its entry, the CPU in long mode there.</summary>
    private static ModuleRecognizer Load(BareMachine machine, byte[] image, FirmwareModule module)
    {
        machine.Load(ImageBase, image);
        ulong entry = ImageBase + module.Image.AddressOfEntryPoint;
        var a = new Assembler(64);
        var loop = a.CreateLabel();
        a.mov(ecx, Loops);
        a.Label(ref loop);
        a.dec(ecx);
        a.jnz(loop);
        a.hlt();
        var code = new MemoryStream();
        a.Assemble(new StreamCodeWriter(code), entry);
        machine.Load(entry, code.ToArray());
        var recognizer = new ModuleRecognizer(machine.Cpu, machine.Bus, Modules);
        machine.EnterLong64(entry);
        return recognizer;
    }
}
