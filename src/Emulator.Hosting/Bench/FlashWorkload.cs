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

/// <summary>How the workload's guest reaches the vars chip.</summary>
internal enum FlashGuestPath
{
    /// <summary>The guest programs the chip itself, on QEMU's <c>pc</c> machine (what OVMF without SMM does).</summary>
    Direct,

    /// <summary>
    /// The guest asks an SMI handler in TSEG to program it, on <c>q35</c> with SMM and secure
    /// flash (what a Secure Boot VM does): <see cref="SmmFlashProgram"/>.
    /// </summary>
    Smm,
}

/// <summary>
/// A flash write workload that runs as firmware, on emu and on QEMU alike: a code chip
/// (<see cref="WorkloadCodeChip"/>) whose program, from the reset vector, switches to 32-bit
/// protected mode, prints <see cref="StartMarker"/> on COM1, then per pass erases every 4 KiB
/// block of the vars chip (0x20, 0xD0 at the block start) and programs every byte with OVMF's
/// sequence (0x10 then the data byte at the same address; 0xFF once after the last byte —
/// QemuFlashFvbServicesRuntimeDxe, docs/qemu-pflash.md), prints <see cref="DoneMarker"/> and
/// powers the machine off (ACPI S5, which QEMU's acpi_pm1_cnt_write and emu both honour).
/// On the <see cref="FlashGuestPath.Direct"/> path the program writes the chip itself; on the
/// <see cref="FlashGuestPath.Smm"/> path it asks an SMI handler for each block erase and for
/// each <see cref="SmiBytes"/> bytes, as OVMF's variable services do in a Secure Boot VM.
///
/// The chips are laid out as QEMU maps two pflash units: code (64 KiB) at the top of 4 GiB, the
/// vars chip (the region, 4 KiB to 4 MiB) directly below it. Like OVMF, the program has the vars
/// base built in. <see cref="Operations"/> lists what the guest does, in order, so tests can
/// check a varstore file against every prefix of it; both paths do the same operations.
/// </summary>
internal sealed class FlashWorkload
{
    public const int CodeChipSize = WorkloadCodeChip.Size;
    public const int BlockSize = CfiFlash.SectorSize;
    public const int MaxRegionBytes = 4 << 20;
    public const string StartMarker = "flash-bench: start";
    public const string DoneMarker = "flash-bench: done";

    /// <summary>Bytes per SMI by default: about one variable record (header, name and data) of OVMF's store.</summary>
    public const int DefaultSmiBytes = 128;

    /// <summary>At most one block per SMI: the request buffer holds that much.</summary>
    public const int MaxSmiBytes = BlockSize;

    // PIIX4 PM (PCI 00:01.3) on the pc machine; OVMF puts its block at 0xB000.
    private const int Piix4PmDevfn = (1 << 3) | 3;
    private const ushort Piix4PmBase = 0xB000;

    public FlashWorkload(int regionBytes, int passes, FlashGuestPath path = FlashGuestPath.Direct, int smiBytes = DefaultSmiBytes)
    {
        if (regionBytes < BlockSize || regionBytes > MaxRegionBytes || regionBytes % BlockSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(regionBytes), $"the region must be a multiple of 4 KiB between 4 KiB and {MaxRegionBytes >> 20} MiB");
        }

        if (passes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(passes), "at least one pass");
        }

        if (smiBytes is < 1 or > MaxSmiBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(smiBytes), $"between 1 and {MaxSmiBytes} bytes per SMI");
        }

        RegionBytes = regionBytes;
        Passes = passes;
        Path = path;
        SmiBytes = smiBytes;
    }

    public int RegionBytes { get; }

    public int Passes { get; }

    public FlashGuestPath Path { get; }

    /// <summary>On the SMM path, the bytes each program request (one SMI) carries; the last of a pass may carry fewer.</summary>
    public int SmiBytes { get; }

    /// <summary>SMIs between the markers on the SMM path (one per block erase, one per program request), 0 on the direct path.</summary>
    public long Smis => Path == FlashGuestPath.Smm ? Passes * ((long)RegionBytes / BlockSize + ((RegionBytes + SmiBytes - 1) / SmiBytes)) : 0;

    /// <summary>The vars chip is exactly the region.</summary>
    public int VarsChipSize => RegionBytes;

    /// <summary>Where QEMU (and emu) map the vars chip: directly below the code chip.</summary>
    public ulong VarsBase => WorkloadCodeChip.Base - (ulong)VarsChipSize;

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

    /// <summary>The code chip: the direct program, or the SMM one (<see cref="SmmFlashProgram"/>), and the reset vector.</summary>
    public byte[] BuildCodeImage()
    {
        var chip = new WorkloadCodeChip();
        if (Path == FlashGuestPath.Smm)
        {
            SmmFlashProgram.Place(chip, this);
        }
        else
        {
            chip.Place(WorkloadCodeChip.MainOffset, AssembleDirectMain(chip));
        }

        return chip.Image;
    }

    /// <summary>The direct program: the guest itself erases and programs the vars chip, then powers off through PIIX4 PM.</summary>
    private byte[] AssembleDirectMain(WorkloadCodeChip chip)
    {
        var a = new Assembler(32);
        WorkloadCodeChip.EnterFlatSegments(a);
        chip.Print(a, StartMarker);

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

        chip.Print(a, DoneMarker);

        // PIIX4 PM (PCI 00:01.3): PMBA = 0xB000 at 0x40, PMREGMISC.IOSE at 0x80, then S5.
        WorkloadCodeChip.PciWrite(a, Piix4PmDevfn, 0x40, Piix4PmBase | 1u, 4);
        WorkloadCodeChip.PciWrite(a, Piix4PmDevfn, 0x80, 1, 1);
        WorkloadCodeChip.PowerOff(a, Piix4PmBase + 4);
        return WorkloadCodeChip.Encode(a, WorkloadCodeChip.Base + WorkloadCodeChip.MainOffset);
    }
}
