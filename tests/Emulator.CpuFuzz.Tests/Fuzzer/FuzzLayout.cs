namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>The CPU mode a case runs its instructions in.</summary>
public enum FuzzMode
{
    /// <summary>32-bit flat protected mode, paging off (CS 0x08, data 0x10).</summary>
    Protected32 = 1,

    /// <summary>64-bit long mode, first 4 GiB identity-mapped with 2 MiB pages (CS 0x18).</summary>
    Long64 = 2,

    /// <summary>
    /// Compatibility mode: IA-32e paging and a 64-bit IDT as in <see cref="Long64"/>, the
    /// sequence in a 32-bit code segment (CS 0x08, L = 0, D = 1); exception handlers run in
    /// 64-bit mode.
    /// </summary>
    Compatibility32 = 3,

    /// <summary>
    /// Real mode from reset: CS F000 with its reset base 0xFFFF0000, DS/ES/FS/GS 0x2000 (the
    /// scratch page), SS 0x3000 with SP 0x800 (the stack page), the IVT at 0 sending vector v
    /// to F000:0C00+v through the BIOS alias below 1 MiB.
    /// </summary>
    Real16 = 4,
}

/// <summary>What a mode implies for encoding and the image.</summary>
public static class FuzzModes
{
    /// <summary>The code size of the sequence (Iced's bitness).</summary>
    public static int Bitness(this FuzzMode mode) => mode switch { FuzzMode.Long64 => 64, FuzzMode.Real16 => 16, _ => 32 };

    /// <summary>EFER.LMA is set: paging, a 64-bit IDT and 64-bit handlers.</summary>
    public static bool IsLongMode(this FuzzMode mode) => mode is FuzzMode.Long64 or FuzzMode.Compatibility32;

    /// <summary>
    /// RIP (EIP, IP) of the sequence's first instruction: its linear address in the flat modes,
    /// the offset from CS's reset base in real mode.
    /// </summary>
    public static ulong SequenceIp(this FuzzMode mode) => (mode == FuzzMode.Real16 ? 0 : FuzzLayout.RomBase) + FuzzLayout.Sequence;

    /// <summary>RIP of exception vector 0's handler (in real mode IP with CS F000).</summary>
    public static ulong HandlerIp(this FuzzMode mode) => (mode == FuzzMode.Real16 ? 0 : FuzzLayout.RomBase) + FuzzLayout.Handlers;
}

/// <summary>
/// Where everything of a case lives. The case is a 64 KiB BIOS image (QEMU's <c>-bios</c> wants
/// a multiple of 64 KiB, hw/i386/x86.c x86_bios_rom_init) mapped below 4 GiB; it starts at the
/// reset vector in real mode, so QEMU and emu reach the first fuzzed instruction through the same
/// code from the same reset state. Everything the fuzzed instructions may write is in two RAM
/// pages, compared after every instruction that writes memory.
/// </summary>
internal static class FuzzLayout
{
    public const ulong RomBase = 0xFFFF0000;

    public const int RomSize = 0x10000;

    /// <summary>ROM offsets.</summary>
    public const int RealModeEntry = 0x0000, ProtectedSetup = 0x0400, Handlers = 0x0C00, Gdt = 0x0E00,
        GdtDescriptor = 0x0F00, IdtDescriptor = 0x0F10, Idt = 0x1000, Prologue = 0x2000, XmmImage = 0x2C00, Sequence = 0x3000,
        ScratchImage = 0xD000, StackImage = 0xE000, ResetVector = 0xFFF0;

    /// <summary>The first fuzzed instruction's linear address in every mode (the sequence ends with HLT).</summary>
    public const ulong SequenceStart = RomBase + Sequence;

    /// <summary>Room for the encoded sequence, up to the scratch image.</summary>
    public const int SequenceCapacity = ScratchImage - Sequence;

    /// <summary>Exception vector v enters at <see cref="FuzzModes.HandlerIp"/> + v: a HLT, so the case stops there.</summary>
    public const int Vectors = 32;

    /// <summary>Where QEMU maps the last 128 KiB of the BIOS (all of ours) below 1 MiB (hw/i386/x86.c, isa-bios).</summary>
    public const ulong LowAlias = 0xF0000;

    /// <summary>Real mode: the scratch and stack pages' segments.</summary>
    public const ushort RealScratchSegment = 0x2000, RealStackSegment = 0x3000;

    public const ushort Code32 = 0x08, Data32 = 0x10, Code64 = 0x18;

    /// <summary>Long-mode page tables: PML4, PDPT, four page directories.</summary>
    public const ulong PageTables = 0x10000;

    /// <summary>The page memory operands point into, and the stack page (RSP starts in its middle).</summary>
    public const ulong ScratchPage = 0x20000, StackPage = 0x30000, StackStart = StackPage + 0x800;
    public const int PageSize = 0x1000;

    /// <summary>RAM emu maps (QEMU has its default 128 MiB); the layout above uses less than 256 KiB.</summary>
    public const ulong RamSize = 0x80000;
}
