using System.Text.Json.Serialization;

namespace Emulator.Hosting.Reporting;

/// <summary>
/// The JSON run report written by <c>boot --report</c> (camelCase). Versioned: a field's meaning
/// never changes within a <see cref="SchemaVersion"/>; additions keep the version, removals or
/// changes bump it. Documented in docs/boot.md ("Run report").
/// </summary>
public sealed record RunReport
{
    /// <summary>The schema version this emu writes and reads.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>The schema version of this report.</summary>
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>The program that wrote the report.</summary>
    public required ToolInfo Tool { get; init; }

    /// <summary>The input files, with sizes and SHA-256.</summary>
    public required IReadOnlyList<FirmwareFileInfo> Firmware { get; init; }

    /// <summary>How emu chose the firmware when no firmware option named it (null when the user named the files).</summary>
    public FirmwareChoiceInfo? FirmwareChoice { get; init; }

    /// <summary>The machine: type, RAM, flash units.</summary>
    public required MachineInfo Machine { get; init; }

    /// <summary>The milestones reached, in order.</summary>
    public required IReadOnlyList<MilestoneInfo> Milestones { get; init; }

    /// <summary>Machine resets in order (each restarts the boot; under --no-reboot the one that ended the run).</summary>
    public IReadOnlyList<ResetInfo> Resets { get; init; } = [];

    /// <summary>Instructions executed.</summary>
    public long Instructions { get; init; }

    /// <summary>REP iterations beyond the first of each REP instruction (they count for virtual time).</summary>
    public long RepIterations { get; init; }

    /// <summary>Wall time of the run, in seconds.</summary>
    public double WallSeconds { get; init; }

    /// <summary>Virtual time: the guest's clock, derived from executed instructions and skipped waits.</summary>
    public VirtualTimeInfo? VirtualTime { get; init; }

    /// <summary>Millions of instructions per second of wall time over the whole run.</summary>
    public double Mips { get; init; }

    /// <summary>Why and where the run stopped.</summary>
    public required StopInfo Stop { get; init; }

    /// <summary>Guest exceptions raised.</summary>
    public long Exceptions { get; init; }

    /// <summary>System Management Mode: SMIs taken, instructions run in SMM, flash writes from SMM and refused ones (absent in reports before issue 17).</summary>
    public SmmInfo? Smm { get; init; }

    /// <summary>Addresses accessed where nothing is mapped.</summary>
    public required IReadOnlyList<UnassignedInfo> Unassigned { get; init; }

    /// <summary>Unassigned accesses not listed (the list is capped).</summary>
    public long UnassignedDropped { get; init; }

    /// <summary>Instructions executed that emu does not implement, with counts.</summary>
    public required IReadOnlyList<UnimplementedInfo> Unimplemented { get; init; }

    /// <summary>What the guest printed on the console.</summary>
    public ConsoleInfo? Console { get; init; }

    /// <summary>Firmware modules in the order they started executing (found by <c>ModuleRecognizer</c>).</summary>
    public IReadOnlyList<ModuleInfo> Modules { get; init; } = [];

    /// <summary>The writable flash file: how it was opened, what was recovered, what reached it.</summary>
    public VarstoreInfo? Varstore { get; init; }

    /// <summary>The writable chip's live variables at the end of the run, in store order (null: no writable chip, or no usable store on it).</summary>
    public IReadOnlyList<VariableInfo>? Variables { get; init; }

    /// <summary>The firmware's runtime Secure Boot state at the end of the run, read from its volatile variable store in RAM (absent in reports before issue 17).</summary>
    public SecureBootInfo? SecureBoot { get; init; }

    /// <summary>The IDE drives (issue 18): images, folders as FAT disks and what their commit did; empty without drives.</summary>
    public IReadOnlyList<DiskInfo> Disks { get; init; } = [];
}

/// <summary>
/// Secure Boot at the end of the run. <paramref name="Found"/>: a volatile variable store was found
/// in RAM (false when the run stopped before the variable driver started); <paramref name="Store"/>
/// its address and <paramref name="InSmram"/> whether it lies in TSEG (an SMM build's own store).
/// The one-byte values of the volatile EFI global variables SecureBoot, SetupMode, AuditMode,
/// DeployedMode and VendorKeys (null when absent); <paramref name="Pk"/>, <paramref name="Kek"/>,
/// <paramref name="Db"/>, <paramref name="Dbx"/>: whether the writable flash store holds each.
/// <paramref name="Stores"/>: every variable store header found in RAM.
/// </summary>
public sealed record SecureBootInfo(
    bool Found, string? Store, bool InSmram, int? SecureBoot, int? SetupMode, int? AuditMode, int? DeployedMode, int? VendorKeys,
    bool Pk, bool Kek, bool Db, bool Dbx, IReadOnlyList<RamStoreInfo> Stores);

/// <summary>A variable store header found in RAM: address, whether in TSEG, kind (volatile, nonVolatile, empty), Size, live variables.</summary>
public sealed record RamStoreInfo(string Address, bool InSmram, string Kind, int Size, int Variables);

/// <summary>
/// The firmware <c>boot</c> chose itself: <paramref name="Source"/> <c>descriptor</c> (QEMU's
/// firmware descriptor at <paramref name="Descriptor"/>) or <c>fixtures</c>; the flash mode
/// (split, combined, stateless); the executable and the template the VM's varstore copies; the
/// VM name, its varstore file (the template itself under --snapshot before the first copy;
/// null for stateless firmware), and whether this run made the copy.
/// </summary>
public sealed record FirmwareChoiceInfo(
    string Source, string? Descriptor, string Mode, string Executable, string? Template, string Vm, string? Varstore, bool VarstoreCreated);

/// <summary>A live variable at the end of the run: name, vendor GUID, attributes (nv,bs,rt...), data size and the SHA-256 of its data.</summary>
public sealed record VariableInfo(string Name, Guid Guid, string Attributes, int DataSize, string Sha256);

/// <summary>
/// The writable flash file (<c>--vars</c> or <c>--firmware</c>): <c>persisted</c> or <c>snapshot</c>;
/// journal records (and their data bytes) recovered from an interrupted run, torn tail bytes
/// discarded; completed guest operations, data bytes written to the file, journal records and
/// journal fsyncs of this run; the error that stopped persistence, if any.
/// </summary>
public sealed record VarstoreInfo(
    string Path, string Mode, long RecoveredRecords, long RecoveredBytes, long DiscardedTornBytes,
    long Operations, long BytesWritten, long JournalRecords, long JournalSyncs, string? Error);

/// <summary>A module that started: UI name, FFS file GUID and type, where its image header was, its entry, and when it was entered; <paramref name="Instruction"/> is the index of its first instruction, <paramref name="Instructions"/> how many ran inside its image.</summary>
public sealed record ModuleInfo(string? Name, Guid Guid, string Type, string ImageAddress, string Entry, long Instruction, double VirtualMs, int Boot, long Instructions);

/// <summary>A machine reset: the boot it ended, instruction index and virtual time, cause (resetControl, keyboardController, fastReset, tripleFault), detail.</summary>
public sealed record ResetInfo(int Boot, long Instruction, double VirtualMs, string Cause, string Detail)
{
    /// <summary>The report's name of a reset cause (camelCase, like stop reasons).</summary>
    public static string CauseName(Core.Machine.ResetCause cause) => cause switch
    {
        Core.Machine.ResetCause.ResetControl => "resetControl",
        Core.Machine.ResetCause.KeyboardController => "keyboardController",
        Core.Machine.ResetCause.FastReset => "fastReset",
        _ => "tripleFault",
    };
}

/// <summary>The program that wrote a report and its version.</summary>
public sealed record ToolInfo(string Name, string Version);

/// <summary>An input file: role (code, vars, firmware, bios), full path, size, SHA-256.</summary>
public sealed record FirmwareFileInfo(string Role, string Path, long Size, string Sha256);

/// <summary>
/// A mapped chip and what the guest did to it: bytes programmed and 4 KiB blocks erased by completed operations;
/// <paramref name="Secure"/> (QEMU's <c>cfi.pflash01.secure=on</c>), write accesses made from SMM and non-SMM ones a secure chip refused.
/// </summary>
public sealed record FlashInfo(
    int Unit, string Name, string Base, ulong Size, bool ReadOnly, long BytesProgrammed, long BlocksErased,
    bool Secure = false, long SmmWrites = 0, long RejectedWrites = 0);

/// <summary>
/// The machine: type (<c>pc-i440fx</c> or <c>pc-q35</c>), RAM bytes, what unassigned reads return, the flash units;
/// the CPU model (<c>qemu64</c> or <c>qemu32</c>) and whether SMM is on (older reports: absent, read as qemu64 and off).
/// </summary>
public sealed record MachineInfo(string Type, ulong MemoryBytes, string UnassignedReads, IReadOnlyList<FlashInfo> Flash, string Cpu = "qemu64", bool Smm = false);

/// <summary>
/// System Management Mode over the run: SMIs taken (QEMU's MSR_SMI_COUNT), instructions retired in SMM (RSM
/// included; a visit still open at the end is not counted), write accesses to the flash made from SMM, and
/// non-SMM write accesses a secure chip refused.
/// </summary>
public sealed record SmmInfo(long Entries, long Instructions, long FlashWritesFromSmm, long RejectedFlashWrites);

/// <summary>A milestone: instruction index, wall milliseconds since the start of the run, and virtual milliseconds (deterministic);
/// <paramref name="FlashBytesProgrammed"/> and <paramref name="FlashBlocksErased"/>: what completed guest operations had done to the writable chip(s) by then (the phase split of <c>machine.flash[]</c>);
/// <paramref name="Screen"/>: for <c>idle</c>, the console screen's lines then (trailing spaces trimmed), absent for the others;
/// <paramref name="Image"/>: for <c>loader</c>, the image started, absent for the others.</summary>
public sealed record MilestoneInfo(
    string Name, long Instruction, string Address, int Mode, double WallMs, double VirtualMs, int Boot, long FlashBytesProgrammed = 0, long FlashBlocksErased = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Screen = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ImageInfo? Image = null);

/// <summary>
/// An image started from a boot option (the <c>loader</c> milestone): its device path as edk2's
/// DevicePathToText prints it (null when the firmware's handle database did not give one), the
/// PE machine (<c>Amd64</c>, <c>I386</c>, ...) and subsystem (10 an EFI application), where it
/// was loaded, its SizeOfImage, and its entry point.
/// </summary>
public sealed record ImageInfo(string? DevicePath, string Machine, int Subsystem, string ImageBase, long SizeOfImage, string Entry)
{
    /// <summary>The report's record of <paramref name="image"/>.</summary>
    public static ImageInfo Of(Boot.LoadedImage image) =>
        new(image.DevicePath, image.Machine.ToString(), image.Subsystem, Hex.Format(image.ImageBase), image.SizeOfImage, Hex.Format(image.Entry));
}

/// <summary>Virtual time at the end of the run and where it came from (all in nanoseconds).</summary>
public sealed record VirtualTimeInfo(long Nanoseconds, long Instructions, long RepIterations, long IdleHalted, long SkippedPolling, long PollSkips);

/// <summary>What the guest printed on COM1: raw bytes as Latin-1 text (escape sequences kept), capped.</summary>
public sealed record ConsoleInfo(long Bytes, bool Truncated, string Output);

/// <summary>Why the run ended: <c>until</c> (milestone reached), <c>limit</c>, <c>halted</c>, <c>tripleFault</c>, <c>powerOff</c>, <c>reset</c> (--no-reboot), <c>resetLimit</c>, <c>interrupted</c>.</summary>
/// <summary>
/// How the run ended; <c>ExitStatus</c>: the status the guest chose through isa-debug-exit (reason
/// <c>guestExit</c>), else absent; <c>Registers</c>: the CPU's registers at the stop, by name
/// (rax…r15, rip, rflags, the six selectors, cr0, cr2, cr3, cr4, efer), in hex.
/// </summary>
public sealed record StopInfo(
    string Reason,
    string Address,
    int Mode,
    string? Detail,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? ExitStatus = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Registers = null);

/// <summary>An unassigned address accessed: space (memory, port), address, size, read or write, count, first instruction index.</summary>
public sealed record UnassignedInfo(string Space, string Address, int Size, bool Write, long Count, long FirstInstruction);

/// <summary>An unimplemented instruction: Iced code, mnemonic, times executed.</summary>
public sealed record UnimplementedInfo(string Code, string Mnemonic, long Count);
