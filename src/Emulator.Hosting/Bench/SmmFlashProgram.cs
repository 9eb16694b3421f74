using Emulator.Core.Devices.CfiFlash;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Hosting.Bench;

/// <summary>
/// The SMM path of the flash workload: what a Secure Boot VM does to write a variable, reduced to
/// its mechanism, on QEMU 7.2's q35 with <c>smm=on</c> and the pflash chips <c>secure=on</c> (and
/// on <c>emu --machine q35 --secure-flash</c>). The code chip's 32-bit program, outside SMM:
/// <list type="number">
/// <item>enables the ICH9 PM block at 0x600 (every way out powers off through it) and checks the
/// machine has <see cref="RamBytes"/> of RAM (CMOS 0x34/0x35, as OVMF's
/// GetSystemMemorySizeBelow4gb reads it), since TSEG sits at its top;</item>
/// <item>sets SMI_EN.APMC_EN (OVMF's SmmControl2Dxe);</item>
/// <item>writes the SMI handler, its GDT and identity-mapping page tables into TSEG while it is
/// still plain RAM, and a relocation stub at the default SMBASE + 0x8000;</item>
/// <item>opens TSEG as SMRAM through the MCH (ESMRAMC.T_EN with 1 MiB, SMRAM.G_SMRAME; QEMU
/// hw/pci-host/q35.c mch_update_smram), takes one SMI whose stub relocates SMBASE into TSEG (as
/// edk2's SmmRelocateBases), then locks SMRAM (D_LCK, as OVMF's SmmAccess2Dxe at EndOfDxe);</item>
/// <item>proves the set-up from outside SMM: TSEG reads all-ones, and an OVMF byte program of
/// the vars chip leaves it unchanged (QEMU's pflash_mem_write_with_attrs drops it) — otherwise
/// it prints why and powers off without the done marker;</item>
/// <item>between the markers, per pass, asks for each block erase and each program of
/// <see cref="FlashWorkload.SmiBytes"/> bytes through a communication buffer in normal RAM and an
/// SMI on the APM port 0xB2 (edk2's SmmCommunicate through OvmfPkg SmmControl2Dxe's Trigger:
/// IoWrite8 (0xB2, 0)), waiting for the handler's status in the buffer.</item>
/// </list>
/// Each SMI enters the handler in TSEG in 16-bit mode at SMBASE + 0x8000; like edk2's
/// UefiCpuPkg/PiSmmCpuDxeSmm/X64/SmiEntry.nasm it loads a GDT, enters protected mode, turns on
/// PAE paging and long mode, then copies the request into SMRAM before checking it (as
/// SmmVariableHandler copies the communication buffer), programs the bytes with OVMF's sequence
/// (or erases the block: QemuFlashFvbServicesRuntimeDxe's QemuFlashWrite and QemuFlashEraseBlock),
/// writes the status and RSMs. The workload needs the AMD64 state-save map (qemu-system-x86_64).
/// </summary>
internal static class SmmFlashProgram
{
    /// <summary>Guest RAM the workload runs with (emu's default; QEMU needs <c>-m 256</c>).</summary>
    public const ulong RamBytes = 256UL << 20;

    /// <summary>TSEG with ESMRAMC.TSEG_SZ = 0: 1 MiB at the top of low RAM.</summary>
    public const uint TsegBytes = 1 << 20;
    public const uint TsegBase = (uint)RamBytes - TsegBytes;

    /// <summary>The communication buffer in normal RAM: command, offset, length, status (dwords), then the data.</summary>
    public const uint CommBuffer = 0x1_0000;
    public const uint CommCommand = CommBuffer, CommOffset = CommBuffer + 4, CommLength = CommBuffer + 8, CommStatus = CommBuffer + 12;
    public const uint CommData = CommBuffer + RequestHeaderBytes;

    public const uint CommandErase = 1, CommandProgram = 2;
    public const uint StatusPending = 0, StatusDone = 1, StatusRefused = 2;

    public const string WrongRamMessage = "flash-bench: RAM must be 256 MiB (QEMU -m 256)";
    public const string RelocationRefusedMessage = "flash-bench: SMBASE relocation refused (no AMD64 state-save map)";
    public const string SmramOpenMessage = "flash-bench: TSEG is readable outside SMM";
    public const string NotSecureMessage = "flash-bench: the vars chip took a write from outside SMM (not secure flash)";
    public const string RequestRefusedMessage = "flash-bench: the SMI handler refused a request";

    private const uint RequestHeaderBytes = 16;
    private const byte ApmControlPort = 0xB2;

    // ICH9 (QEMU hw/isa/lpc_ich9.c, hw/acpi/ich9.c): LPC 00:1f.0, PMBASE at 0x40, ACPI_CNTL at
    // 0x44; SMI_EN at PMBASE + 0x30 (dword accesses only). OVMF's Q35 PMBASE is 0x600.
    private const int LpcDevfn = 31 << 3;
    private const ushort PmBase = 0x600;
    private const uint SmiEnableApmcAndGlobal = 0x21;

    // MCH 00:00.0 (hw/pci-host/q35.c): SMRAM at 0x9D, ESMRAMC at 0x9E.
    private const int MchDevfn = 0;
    private const byte SmramGlobalEnableBaseSeg = 0x0A;
    private const byte SmramLockedGlobalEnableBaseSeg = 0x1A;
    private const byte EsmramcTseg1MiBEnable = 0x01;

    /// <summary>SMBASE after reset (QEMU x86_cpu_reset); the relocation stub runs at SMBASE + 0x8000.</summary>
    private const uint DefaultSmBase = 0x3_0000;
    private const uint SmmEntryOffset = 0x8000;
    private const uint SaveRevisionOffset = 0xFEFC, SaveSmBaseOffset = 0xFF00;
    private const byte Amd64MapRevision = 0x64;

    // The handler blob, copied to TSEG + 0x8000: entry code for each mode and the SMM GDT.
    private const int Entry16 = 0x000, Code32 = 0x080, Code64 = 0x100, SmmGdt = 0x800, SmmGdtr = 0x820, BlobBytes = 0x1000;
    private const ushort SmmCode32 = 0x08, SmmData = 0x10, SmmCode64 = 0x18;

    // The rest of SMRAM (offsets from TSEG): stack below the entry point, the request copy past the
    // save map (SMBASE + 0xFC00..0xFFFF), PML4, PDPT and four page directories of 2 MiB pages.
    private const uint SmmStackTop = 0x7000, RequestCopy = 0x1_0000, Pml4 = 0x2_0000, Pdpt = 0x2_1000, PageDirectories = 0x2_2000;
    private const uint PagePresentWritable = 0x3, PagePresentWritableLarge = 0x83;

    // Chip offsets of the blob and the relocation stub.
    private const int BlobChipOffset = 0x8000, StubChipOffset = 0x9000, StubBytes = 0x100;

    /// <summary>The workload's program, handler and stub in <paramref name="chip"/>.</summary>
    public static void Place(WorkloadCodeChip chip, FlashWorkload workload) => Place(chip, workload, roundTrip: false);

    /// <summary>
    /// The code chip of the round-trip loop: the same set-up and handler, then, after the start
    /// marker, one program request of <see cref="FlashWorkload.SmiBytes"/> bytes at offset 0
    /// sent again and again, forever (BenchmarkDotNet's SMM round trip).
    /// </summary>
    public static byte[] BuildRoundTripCodeImage(FlashWorkload workload)
    {
        var chip = new WorkloadCodeChip();
        Place(chip, workload, roundTrip: true);
        return chip.Image;
    }

    private static void Place(WorkloadCodeChip chip, FlashWorkload workload, bool roundTrip)
    {
        if (workload.Path != FlashGuestPath.Smm)
        {
            throw new ArgumentException("not an SMM workload", nameof(workload));
        }

        byte[] main = AssembleMain(chip, workload, roundTrip);
        if (main.Length > BlobChipOffset)
        {
            throw new InvalidOperationException("the SMM workload's program does not fit below its handler");
        }

        chip.Place(WorkloadCodeChip.MainOffset, main);
        chip.Place(BlobChipOffset, HandlerBlob(workload));
        chip.Place(StubChipOffset, RelocationStub());
    }

    private static byte[] AssembleMain(WorkloadCodeChip chip, FlashWorkload w, bool roundTrip)
    {
        var a = new Assembler(32);
        var smi = a.CreateLabel();
        var wrongRam = a.CreateLabel();
        var relocationRefused = a.CreateLabel();
        var smramOpen = a.CreateLabel();
        var notSecure = a.CreateLabel();
        var refused = a.CreateLabel();
        WorkloadCodeChip.EnterFlatSegments(a);
        a.cld();

        // The PM block first: every way out, the checks' included, powers off through PM1_CNT.
        WorkloadCodeChip.PciWrite(a, LpcDevfn, 0x40, PmBase, 4);
        WorkloadCodeChip.PciWrite(a, LpcDevfn, 0x44, 0x80, 1);

        // CMOS 0x35:0x34 = RAM above 16 MiB below 4 GiB in 64 KiB units (QEMU pc_cmos_init).
        a.mov(al, 0x35);
        a.@out(0x70, al);
        a.@in(al, 0x71);
        a.mov(ah, al);
        a.mov(al, 0x34);
        a.@out(0x70, al);
        a.@in(al, 0x71);
        a.cmp(ax, (ushort)((RamBytes - (16 << 20)) >> 16));
        a.jne(wrongRam);

        a.mov(dx, (ushort)(PmBase + 0x30));
        a.mov(eax, SmiEnableApmcAndGlobal);
        a.@out(dx, eax);

        CopyFromChip(a, BlobChipOffset, TsegBase + SmmEntryOffset, BlobBytes);
        CopyFromChip(a, StubChipOffset, DefaultSmBase + SmmEntryOffset, StubBytes);
        BuildPageTables(a);

        WorkloadCodeChip.PciWrite(a, MchDevfn, 0x9E, EsmramcTseg1MiBEnable, 1);
        WorkloadCodeChip.PciWrite(a, MchDevfn, 0x9D, SmramGlobalEnableBaseSeg, 1);
        SendRequest(a, smi, relocationRefused);
        WorkloadCodeChip.PciWrite(a, MchDevfn, 0x9D, SmramLockedGlobalEnableBaseSeg, 1);

        a.cmp(__dword_ptr[TsegBase + SmmEntryOffset], -1);
        a.jne(smramOpen);
        a.mov(edi, (uint)w.VarsBase);
        a.mov(__byte_ptr[edi], FlashCommand.SingleProgram);
        a.mov(__byte_ptr[edi], 0x00);
        a.cmp(__byte_ptr[edi], 0xFF);
        a.jne(notSecure);

        chip.Print(a, FlashWorkload.StartMarker);
        if (roundTrip)
        {
            RoundTripLoop(a, w, smi, refused);
        }
        else
        {
            Passes(a, w, smi, refused);
            chip.Print(a, FlashWorkload.DoneMarker);
            WorkloadCodeChip.PowerOff(a, PmBase + 4);
        }

        foreach (var (label, message) in new[] { (wrongRam, WrongRamMessage), (relocationRefused, RelocationRefusedMessage), (smramOpen, SmramOpenMessage), (notSecure, NotSecureMessage), (refused, RequestRefusedMessage) })
        {
            var at = label;
            a.Label(ref at);
            chip.Print(a, message);
            WorkloadCodeChip.PowerOff(a, PmBase + 4);
        }

        // smi: status = pending, SMI through the APM port, wait for the handler; EAX = status.
        var wait = a.CreateLabel();
        a.Label(ref smi);
        a.mov(__dword_ptr[CommStatus], StatusPending);
        a.xor(eax, eax);
        a.@out(ApmControlPort, al);
        a.Label(ref wait);
        a.mov(eax, __dword_ptr[CommStatus]);
        a.test(eax, eax);
        a.jz(wait);
        a.ret();
        return WorkloadCodeChip.Encode(a, WorkloadCodeChip.Base + WorkloadCodeChip.MainOffset);
    }

    /// <summary>Per pass: an erase request per block, then program requests of SmiBytes (the data computed as <see cref="FlashWorkload.DataByte"/>).</summary>
    private static void Passes(Assembler a, FlashWorkload w, Label smi, Label refused)
    {
        var pass = a.CreateLabel();
        var erase = a.CreateLabel();
        var chunk = a.CreateLabel();
        var fullChunk = a.CreateLabel();
        a.xor(ebp, ebp);
        a.Label(ref pass);

        a.xor(edx, edx);
        a.Label(ref erase);
        a.mov(__dword_ptr[CommCommand], CommandErase);
        a.mov(__dword_ptr[CommOffset], edx);
        a.mov(__dword_ptr[CommLength], FlashWorkload.BlockSize);
        SendRequest(a, smi, refused);
        a.add(edx, FlashWorkload.BlockSize);
        a.cmp(edx, w.RegionBytes);
        a.jb(erase);

        // ebx = pass * 13; edx = the chunk's offset; ecx = its length, the rest of the region at most.
        a.imul(ebx, ebp, 13);
        a.xor(edx, edx);
        a.Label(ref chunk);
        a.mov(ecx, w.RegionBytes);
        a.sub(ecx, edx);
        a.cmp(ecx, w.SmiBytes);
        a.jbe(fullChunk);
        a.mov(ecx, w.SmiBytes);
        a.Label(ref fullChunk);
        WriteProgramRequest(a);
        SendRequest(a, smi, refused);
        a.mov(edx, esi);
        a.cmp(edx, w.RegionBytes);
        a.jb(chunk);

        a.inc(ebp);
        a.cmp(ebp, w.Passes);
        a.jb(pass);
    }

    /// <summary>One program request of SmiBytes at offset 0 (pass 0's data), sent forever.</summary>
    private static void RoundTripLoop(Assembler a, FlashWorkload w, Label smi, Label refused)
    {
        var again = a.CreateLabel();
        a.xor(ebx, ebx);
        a.xor(edx, edx);
        a.mov(ecx, w.SmiBytes);
        WriteProgramRequest(a);
        a.Label(ref again);
        SendRequest(a, smi, refused);
        a.jmp(again);
    }

    /// <summary>
    /// The program request for ECX bytes at offset EDX of pass EBX / 13 into the buffer, its data
    /// computed as <see cref="FlashWorkload.DataByte"/> does (i + (i >> 8) + EBX); leaves ESI = EDX + ECX.
    /// </summary>
    private static void WriteProgramRequest(Assembler a)
    {
        var fill = a.CreateLabel();
        a.mov(__dword_ptr[CommCommand], CommandProgram);
        a.mov(__dword_ptr[CommOffset], edx);
        a.mov(__dword_ptr[CommLength], ecx);
        a.mov(edi, CommData);
        a.mov(esi, edx);
        a.Label(ref fill);
        a.mov(eax, esi);
        a.shr(eax, 8);
        a.add(eax, esi);
        a.add(eax, ebx);
        a.mov(__byte_ptr[edi], al);
        a.inc(edi);
        a.inc(esi);
        a.dec(ecx);
        a.jnz(fill);
    }

    /// <summary>The request in the buffer through an SMI; a refused one ends the program at <paramref name="refused"/>.</summary>
    private static void SendRequest(Assembler a, Label smi, Label refused)
    {
        a.call(smi);
        a.cmp(eax, StatusDone);
        a.jne(refused);
    }

    private static void CopyFromChip(Assembler a, int chipOffset, uint destination, int bytes)
    {
        a.mov(esi, (uint)(WorkloadCodeChip.Base + (ulong)chipOffset));
        a.mov(edi, destination);
        a.mov(ecx, bytes / 4);
        a.rep.movsd();
    }

    /// <summary>PML4[0] → PDPT[0..3] → four page directories of 2 MiB pages: the low 4 GiB identity-mapped, as SMM's own page table maps it.</summary>
    private static void BuildPageTables(Assembler a)
    {
        var pdpt = a.CreateLabel();
        var pd = a.CreateLabel();
        a.mov(edi, TsegBase + Pml4);
        a.xor(eax, eax);
        a.mov(ecx, (int)((PageDirectories - Pml4) / 4));
        a.rep.stosd();
        a.mov(__dword_ptr[TsegBase + Pml4], TsegBase + Pdpt + PagePresentWritable);
        a.mov(edi, TsegBase + Pdpt);
        a.mov(eax, TsegBase + PageDirectories + PagePresentWritable);
        a.mov(ecx, 4);
        a.Label(ref pdpt);
        a.mov(__dword_ptr[edi], eax);
        a.add(eax, 0x1000);
        a.add(edi, 8);
        a.dec(ecx);
        a.jnz(pdpt);
        a.mov(edi, TsegBase + PageDirectories);
        a.mov(eax, PagePresentWritableLarge);
        a.mov(ecx, 4 * 512);
        a.Label(ref pd);
        a.mov(__dword_ptr[edi], eax);
        a.mov(__dword_ptr[edi + 4], 0);
        a.add(eax, 2 << 20);
        a.add(edi, 8);
        a.dec(ecx);
        a.jnz(pd);
    }

    /// <summary>
    /// At the first SMI (CS base 0x30000, DS base 0, 4 GiB limits): if the save map is the AMD64
    /// one (revision ID low byte 0x64, QEMU's SMM_REVISION_ID), write TSEG's base into its SMBASE
    /// field, which RSM loads (helper_rsm: revision bit 17); report done or refused, RSM.
    /// </summary>
    private static byte[] RelocationStub()
    {
        var a = new Assembler(16);
        var refuse = a.CreateLabel();
        a.mov(ebx, DefaultSmBase + SaveRevisionOffset);
        a.mov(eax, __dword_ptr[ebx]);
        a.cmp(al, Amd64MapRevision);
        a.jne(refuse);
        a.mov(ebx, DefaultSmBase + SaveSmBaseOffset);
        a.mov(__dword_ptr[ebx], TsegBase);
        ResumeWithStatus(a, refuse);
        byte[] stub = WorkloadCodeChip.Encode(a, SmmEntryOffset);
        return stub.Length <= StubBytes ? stub : throw new InvalidOperationException("the relocation stub outgrew its space");
    }

    /// <summary>The handler at TSEG + 0x8000 in its three modes, and its GDT (32-bit code, data, 64-bit code).</summary>
    private static byte[] HandlerBlob(FlashWorkload w)
    {
        const uint entry = TsegBase + SmmEntryOffset;
        var blob = new byte[BlobBytes];
        blob.AsSpan().Fill(0xCC);

        var a16 = new Assembler(16);
        a16.mov(ebx, entry + SmmGdtr);
        a16.AddInstruction(Instruction.Create(Code.Lgdt_m1632, new MemoryOperand(Register.EBX)));
        a16.mov(eax, cr0);
        a16.or(al, 1);
        a16.mov(cr0, eax);
        a16.AddInstruction(Instruction.CreateBranch(Code.Jmp_ptr1632, SmmCode32, entry + Code32));
        Fit(blob, Entry16, Code32, WorkloadCodeChip.Encode(a16, SmmEntryOffset + Entry16));

        var a32 = new Assembler(32);
        a32.mov(ax, SmmData);
        a32.mov(ds, ax);
        a32.mov(es, ax);
        a32.mov(ss, ax);
        a32.mov(esp, TsegBase + SmmStackTop);
        a32.mov(eax, TsegBase + Pml4);
        a32.mov(cr3, eax);
        a32.mov(eax, cr4);
        a32.or(eax, 0x20); // PAE
        a32.mov(cr4, eax);
        a32.mov(ecx, 0xC000_0080); // EFER
        a32.rdmsr();
        a32.or(eax, 0x100); // LME
        a32.wrmsr();
        a32.mov(eax, cr0);
        a32.or(eax, 0x8000_0000); // PG: long mode becomes active
        a32.mov(cr0, eax);
        a32.AddInstruction(Instruction.CreateBranch(Code.Jmp_ptr1632, SmmCode64, entry + Code64));
        Fit(blob, Code32, Code64, WorkloadCodeChip.Encode(a32, entry + Code32));

        Fit(blob, Code64, SmmGdt, WorkloadCodeChip.Encode(AssembleRequestHandler(w), entry + Code64));

        BitConverter.GetBytes(0x00CF_9B00_0000_FFFFUL).CopyTo(blob, SmmGdt + SmmCode32);
        BitConverter.GetBytes(0x00CF_9300_0000_FFFFUL).CopyTo(blob, SmmGdt + SmmData);
        BitConverter.GetBytes(0x00AF_9B00_0000_FFFFUL).CopyTo(blob, SmmGdt + SmmCode64);
        BitConverter.GetBytes((ushort)(4 * 8 - 1)).CopyTo(blob, SmmGdtr);
        BitConverter.GetBytes(entry + SmmGdt).CopyTo(blob, SmmGdtr + 2);
        return blob;
    }

    /// <summary>
    /// 64-bit: copy the request header into SMRAM, check it (a known command, within the region,
    /// an erase block-aligned), copy the data, then erase or program; status done or refused; RSM.
    /// </summary>
    private static Assembler AssembleRequestHandler(FlashWorkload w)
    {
        var a = new Assembler(64);
        var erase = a.CreateLabel();
        var program = a.CreateLabel();
        var done = a.CreateLabel();
        var refuse = a.CreateLabel();
        a.mov(esi, CommBuffer);
        a.mov(ebx, TsegBase + RequestCopy);
        a.mov(rdi, rbx);
        a.mov(ecx, (int)(RequestHeaderBytes / 4));
        a.rep.movsd();
        a.mov(eax, __dword_ptr[rbx]);
        a.mov(edx, __dword_ptr[rbx + 4]);
        a.mov(ecx, __dword_ptr[rbx + 8]);
        a.cmp(eax, CommandErase);
        a.je(erase);
        a.cmp(eax, CommandProgram);
        a.jne(refuse);

        a.test(ecx, ecx);
        a.jz(refuse);
        a.cmp(ecx, FlashWorkload.MaxSmiBytes);
        a.ja(refuse);
        a.lea(r8, __qword_ptr[rdx + rcx]);
        a.cmp(r8, w.RegionBytes);
        a.ja(refuse);
        a.mov(r9d, ecx);
        a.mov(esi, CommData);
        a.lea(rdi, __qword_ptr[rbx + (int)RequestHeaderBytes]);
        a.rep.movsb();
        a.lea(rsi, __qword_ptr[rbx + (int)RequestHeaderBytes]);
        a.mov(edi, (uint)w.VarsBase);
        a.add(rdi, rdx);
        a.Label(ref program);
        a.mov(__byte_ptr[rdi], FlashCommand.SingleProgram);
        a.mov(al, __byte_ptr[rsi]);
        a.mov(__byte_ptr[rdi], al);
        a.inc(rsi);
        a.inc(rdi);
        a.dec(r9d);
        a.jnz(program);
        a.mov(__byte_ptr[rdi - 1], FlashCommand.ReadArray);
        a.jmp(done);

        a.Label(ref erase);
        a.test(edx, FlashWorkload.BlockSize - 1);
        a.jnz(refuse);
        a.cmp(ecx, FlashWorkload.BlockSize);
        a.jne(refuse);
        a.cmp(edx, w.RegionBytes);
        a.jae(refuse);
        a.mov(edi, (uint)w.VarsBase);
        a.add(rdi, rdx);
        a.mov(__byte_ptr[rdi], FlashCommand.BlockErase);
        a.mov(__byte_ptr[rdi], FlashCommand.Confirm);

        a.Label(ref done);
        ResumeWithStatus(a, refuse);
        return a;
    }

    /// <summary>
    /// The end of every SMI: status done into the caller's buffer and RSM; from
    /// <paramref name="refuse"/>, status refused and RSM. The buffer is addressed through EBX
    /// (DS base 0 in SMM's 16-bit entry state, flat in long mode).
    /// </summary>
    private static void ResumeWithStatus(Assembler a, Label refuse)
    {
        WriteStatusAndResume(a, StatusDone);
        a.Label(ref refuse);
        WriteStatusAndResume(a, StatusRefused);
    }

    private static void WriteStatusAndResume(Assembler a, uint status)
    {
        a.mov(ebx, CommStatus);
        a.mov(__dword_ptr[ebx], status);
        a.rsm();
    }

    private static void Fit(byte[] blob, int offset, int end, byte[] code)
    {
        if (offset + code.Length > end)
        {
            throw new InvalidOperationException($"SMM handler code at 0x{offset:X} outgrew its space");
        }

        code.CopyTo(blob, offset);
    }
}
