using Emulator.Core.Devices.CfiFlash;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Hosting.Bench;

/// <summary>One completed flash operation of the workload: <see cref="Length"/> bytes at <see cref="Offset"/> become <see cref="Value"/>.</summary>
internal readonly record struct FlashWorkloadOperation(FlashWriteKind Kind, int Offset, int Length, byte Value)
{
    /// <summary>The bytes the operation leaves in the array (allocates; for tests and tools).</summary>
    public byte[] Data => Enumerable.Repeat(Value, Length).ToArray();
}

/// <summary>
/// A flash write workload that runs as firmware, on emu and on QEMU alike: a code chip whose
/// program, from the reset vector, switches to 32-bit protected mode, prints
/// <see cref="StartMarker"/> on COM1, then per pass erases every 4 KiB block of the vars chip
/// (0x20, 0xD0 at the block start) and programs every byte with OVMF's sequence (0x10 then the
/// data byte at the same address; 0xFF once after the last byte — QemuFlashFvbServicesRuntimeDxe,
/// docs/qemu-pflash.md), prints <see cref="DoneMarker"/> and powers the machine off
/// through the PIIX4 PM block (ACPI S5, which QEMU's acpi_pm1_cnt_write and emu both honour).
///
/// The chips are laid out as QEMU maps two pflash units: code (64 KiB) at the top of 4 GiB, the
/// vars chip (the region, 4 KiB to 4 MiB) directly below it. Like OVMF, the program has the vars
/// base built in. <see cref="Operations"/> lists what the guest does, in order, so tests can
/// check a varstore file against every prefix of it.
/// </summary>
internal sealed class FlashWorkload
{
    public const int CodeChipSize = 0x10000;
    public const int BlockSize = CfiFlash.SectorSize;
    public const int MaxRegionBytes = 4 << 20;
    public const string StartMarker = "flash-bench: start";
    public const string DoneMarker = "flash-bench: done";

    private const ulong FourGiB = 1UL << 32;
    private const ulong CodeBase = FourGiB - CodeChipSize;

    // Where things sit in the code chip (offsets; linear address = CodeBase + offset).
    private const int MainOffset = 0x0000;
    private const int GdtOffset = 0xE000;
    private const int GdtrOffset = 0xE020;
    private const int MessagesOffset = 0xE100;
    private const int EntryOffset = 0xF000;
    private const int ResetVectorOffset = 0xFFF0;

    private const ushort CodeSelector = 0x08;
    private const ushort DataSelector = 0x10;
    private const uint StackTop = 0x8000;

    // PIIX4 PM (PCI 00:01.3): PMBA at 0x40, PMREGMISC at 0x80; OVMF puts the block at 0xB000.
    private const uint PciAddressPort = 0xCF8;
    private const uint PciDataPort = 0xCFC;
    private const uint PmBaseConfigAddress = 0x8000_0B40;
    private const uint PmMiscConfigAddress = 0x8000_0B80;
    private const ushort PmBase = 0xB000;
    private const ushort Pm1ControlPort = PmBase + 4;
    private const ushort SleepEnableTypeS5 = 0x2000;

    private const ushort Com1Data = 0x3F8;
    private const ushort Com1LineStatus = 0x3FD;
    private const byte TransmitterEmpty = 0x20;

    public FlashWorkload(int regionBytes, int passes)
    {
        if (regionBytes < BlockSize || regionBytes > MaxRegionBytes || regionBytes % BlockSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(regionBytes), $"the region must be a multiple of 4 KiB between 4 KiB and {MaxRegionBytes >> 20} MiB");
        }

        if (passes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(passes), "at least one pass");
        }

        RegionBytes = regionBytes;
        Passes = passes;
    }

    public int RegionBytes { get; }

    public int Passes { get; }

    /// <summary>The vars chip is exactly the region.</summary>
    public int VarsChipSize => RegionBytes;

    /// <summary>Where QEMU (and emu) map the vars chip: directly below the code chip.</summary>
    public ulong VarsBase => CodeBase - (ulong)VarsChipSize;

    public long BytesProgrammed => (long)RegionBytes * Passes;

    public long BlocksErased => (long)RegionBytes / BlockSize * Passes;

    /// <summary>The byte pass <paramref name="pass"/> programs at <paramref name="index"/>; never constant over a block.</summary>
    public static byte DataByte(int pass, int index) => (byte)(index + (index >> 8) + (pass * 13));

    /// <summary>The initial vars chip: erased.</summary>
    public byte[] BuildVarsImage()
    {
        var vars = new byte[VarsChipSize];
        vars.AsSpan().Fill(0xFF);
        return vars;
    }

    /// <summary>The vars chip after the whole workload: each pass erases every block, so the last pass's bytes are all that remain.</summary>
    public byte[] BuildFinalVarsImage()
    {
        var vars = new byte[VarsChipSize];
        for (int i = 0; i < vars.Length; i++)
        {
            vars[i] = DataByte(Passes - 1, i);
        }

        return vars;
    }

    /// <summary>Every completed operation the guest performs, in order.</summary>
    public IEnumerable<FlashWorkloadOperation> Operations()
    {
        for (int pass = 0; pass < Passes; pass++)
        {
            for (int block = 0; block < RegionBytes; block += BlockSize)
            {
                yield return new FlashWorkloadOperation(FlashWriteKind.Erase, block, BlockSize, 0xFF);
            }

            for (int i = 0; i < RegionBytes; i++)
            {
                yield return new FlashWorkloadOperation(FlashWriteKind.Program, i, 1, DataByte(pass, i));
            }
        }
    }

    public static void Apply(Span<byte> array, FlashWorkloadOperation op) => array.Slice(op.Offset, op.Length).Fill(op.Value);

    /// <summary>The code chip: the program, its GDT and messages, and the reset vector.</summary>
    public byte[] BuildCodeImage()
    {
        var image = new byte[CodeChipSize];
        image.AsSpan().Fill(0xFF);
        Place(image, MainOffset, AssembleMain());
        Place(image, GdtOffset, Gdt());
        Place(image, MessagesOffset, System.Text.Encoding.ASCII.GetBytes(StartMarker + "\r\n\0" + DoneMarker + "\r\n\0"));
        Place(image, EntryOffset, AssembleEntry());
        var reset = new Assembler(16);
        reset.jmp((ulong)EntryOffset);
        Place(image, ResetVectorOffset, Encode(reset, ResetVectorOffset));
        return image;
    }

    private static void Place(byte[] image, int offset, byte[] bytes) => bytes.CopyTo(image, offset);

    /// <summary>Flat 4 GiB code and data descriptors, and the GDTR image that points at them.</summary>
    private static byte[] Gdt()
    {
        var gdt = new byte[GdtrOffset - GdtOffset + 6];
        BitConverter.GetBytes(0x00CF_9B00_0000_FFFFUL).CopyTo(gdt, CodeSelector);
        BitConverter.GetBytes(0x00CF_9300_0000_FFFFUL).CopyTo(gdt, DataSelector);
        BitConverter.GetBytes((ushort)(3 * 8 - 1)).CopyTo(gdt, GdtrOffset - GdtOffset);
        BitConverter.GetBytes((uint)(CodeBase + GdtOffset)).CopyTo(gdt, GdtrOffset - GdtOffset + 2);
        return gdt;
    }

    /// <summary>
    /// Real mode at the reset vector (CS base 0xFFFF0000, so chip offsets are IPs): load the GDT
    /// with a 32-bit base (o32 LGDT, CS-relative), set CR0.PE, far-jump to the 32-bit main.
    /// </summary>
    private static byte[] AssembleEntry()
    {
        var a = new Assembler(16);
        a.cli();
        var lgdt = Instruction.Create(Code.Lgdt_m1632, new MemoryOperand(Register.None, GdtrOffset, 2));
        lgdt.SegmentPrefix = Register.CS;
        a.AddInstruction(lgdt);
        a.mov(eax, cr0);
        a.or(eax, 1);
        a.mov(cr0, eax);
        a.AddInstruction(Instruction.CreateBranch(Code.Jmp_ptr1632, CodeSelector, (uint)(CodeBase + MainOffset)));
        return Encode(a, EntryOffset);
    }

    private byte[] AssembleMain()
    {
        var a = new Assembler(32);
        a.mov(ax, DataSelector);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(esp, StackTop);
        Print(a, MessagesOffset);

        var pass = a.CreateLabel();
        var erase = a.CreateLabel();
        var program = a.CreateLabel();
        a.xor(ebp, ebp);
        a.Label(ref pass);

        a.mov(edi, (uint)VarsBase);
        a.mov(ecx, (uint)(RegionBytes / BlockSize));
        a.Label(ref erase);
        a.mov(__byte_ptr[edi], FlashCommand.BlockErase);
        a.mov(__byte_ptr[edi], FlashCommand.Confirm);
        a.add(edi, BlockSize);
        a.dec(ecx);
        a.jnz(erase);

        // ebx = pass * 13; al = i + (i >> 8) + ebx, as DataByte computes it.
        a.mov(edi, (uint)VarsBase);
        a.xor(ecx, ecx);
        a.imul(ebx, ebp, 13);
        a.Label(ref program);
        a.mov(eax, ecx);
        a.shr(eax, 8);
        a.add(eax, ecx);
        a.add(eax, ebx);
        a.mov(__byte_ptr[edi + ecx], FlashCommand.SingleProgram);
        a.mov(__byte_ptr[edi + ecx], al);
        a.inc(ecx);
        a.cmp(ecx, RegionBytes);
        a.jb(program);
        a.mov(__byte_ptr[edi + ecx - 1], FlashCommand.ReadArray);

        a.inc(ebp);
        a.cmp(ebp, Passes);
        a.jb(pass);

        Print(a, MessagesOffset + StartMarker.Length + 3);
        PowerOff(a);
        return Encode(a, CodeBase + MainOffset);
    }

    /// <summary>Sends a NUL-terminated message from the code chip to COM1, waiting for the transmitter each byte.</summary>
    private static void Print(Assembler a, int messageOffset)
    {
        var next = a.CreateLabel();
        var wait = a.CreateLabel();
        var done = a.CreateLabel();
        a.mov(esi, (uint)(CodeBase + (ulong)messageOffset));
        a.Label(ref next);
        a.mov(bl, __byte_ptr[esi]);
        a.test(bl, bl);
        a.jz(done);
        a.mov(dx, Com1LineStatus);
        a.Label(ref wait);
        a.@in(al, dx);
        a.test(al, TransmitterEmpty);
        a.jz(wait);
        a.mov(dx, Com1Data);
        a.mov(al, bl);
        a.@out(dx, al);
        a.inc(esi);
        a.jmp(next);
        a.Label(ref done);
    }

    /// <summary>PIIX4 PM: PMBA = 0xB000, enable the block, then SLP_TYP 0 | SLP_EN in PM1 control (S5).</summary>
    private static void PowerOff(Assembler a)
    {
        a.mov(dx, (ushort)PciAddressPort);
        a.mov(eax, PmBaseConfigAddress);
        a.@out(dx, eax);
        a.mov(dx, (ushort)PciDataPort);
        a.mov(eax, (uint)PmBase | 1);
        a.@out(dx, eax);
        a.mov(dx, (ushort)PciAddressPort);
        a.mov(eax, PmMiscConfigAddress);
        a.@out(dx, eax);
        a.mov(dx, (ushort)PciDataPort);
        a.mov(al, 1);
        a.@out(dx, al);
        a.mov(dx, Pm1ControlPort);
        a.mov(ax, SleepEnableTypeS5);
        a.@out(dx, ax);
        var stop = a.CreateLabel();
        a.Label(ref stop);
        a.cli();
        a.hlt();
        a.jmp(stop);
    }

    private static byte[] Encode(Assembler a, ulong rip)
    {
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), rip);
        return stream.ToArray();
    }
}
