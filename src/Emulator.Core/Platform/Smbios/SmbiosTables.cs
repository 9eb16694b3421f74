namespace Emulator.Core.Platform.Smbios;

/// <summary>
/// The SMBIOS structure table and entry point QEMU 7.2 builds for a pc machine without
/// <c>-smbios</c> options (hw/smbios/smbios.c smbios_get_tables; docs/smbios.md), written from
/// the machine's facts in <see cref="SmbiosPlatform"/>: System (type 1), Chassis (3), one
/// Processor per socket (4), Physical Memory Array (16), one Memory Device per 16 GiB (17), one
/// Memory Array Mapped Address per e820 RAM range (19), System Boot (32) and End-of-Table (127),
/// in that order. No BIOS Information (type 0): QEMU leaves it to the firmware unless asked, and
/// OVMF's SmbiosPlatformDxe then adds its own. Handles follow QEMU's numbering, type × 0x100 plus
/// the instance; the firmware installs each structure under the handle given here.
/// </summary>
public sealed class SmbiosTables
{
    /// <summary>Type 17 devices are at most this large (QEMU's MAX_DIMM_SZ).</summary>
    public const ulong MaxDeviceSize = 16UL << 30;

    public const byte SystemType = 1;
    public const byte ChassisType = 3;
    public const byte ProcessorType = 4;
    public const byte OemStringsType = 11;

    /// <summary>QEMU's T11_BASE: the one handle that is not type × 0x100 (hw/smbios/smbios.c).</summary>
    public const ushort OemStringsHandle = 0xE00;
    public const byte MemoryArrayType = 16;
    public const byte MemoryDeviceType = 17;
    public const byte MappedAddressType = 19;
    public const byte BootInformationType = 32;
    public const byte EndOfTableType = 127;

    /// <summary>Handle 0xFFFE in an error-information field: not provided (DSP0134 types 16, 17).</summary>
    private const ushort NoErrorInformation = 0xFFFE;

    /// <summary>A cache handle of 0xFFFF: no cache information structure (type 4).</summary>
    private const ushort NoHandle = 0xFFFF;

    /// <summary>Type 16's capacity field counts KiB up to this; beyond, the extended field holds bytes.</summary>
    private const ulong MaxCapacityKib = 0x8000_0000;

    /// <summary>Type 19's 32-bit address fields count KiB below this; beyond, the extended fields hold bytes.</summary>
    private const ulong MaxAddressKib = uint.MaxValue;

    /// <summary>QEMU's string prefixes for type 4 sockets and type 17 locators.</summary>
    private const string SocketPrefix = "CPU";
    private const string DeviceLocatorPrefix = "DIMM";

    private SmbiosTables(byte[] structures, int count, int maxStructureSize)
    {
        Structures = structures;
        Count = count;
        MaxStructureSize = maxStructureSize;
        EntryPoint = SmbiosEntryPoint.Build(structures.Length, maxStructureSize, count);
    }

    /// <summary><c>etc/smbios/smbios-tables</c>: the structures back to back, type 127 last.</summary>
    public byte[] Structures { get; }

    /// <summary><c>etc/smbios/smbios-anchor</c>: the 31-byte 2.1 entry point describing <see cref="Structures"/>.</summary>
    public byte[] EntryPoint { get; }

    public int Count { get; }

    public int MaxStructureSize { get; }

    /// <summary>QEMU's handle for a structure: its type in the high byte, the instance in the low bits.</summary>
    public static ushort Handle(byte type, int instance) => (ushort)((type << 8) + instance);

    public static SmbiosTables Build(SmbiosPlatform p)
    {
        if (p.Sockets < 1 || p.RamSize == 0 || p.RamRanges.Count == 0)
        {
            throw new ArgumentException("SMBIOS needs at least one socket and some RAM", nameof(p));
        }

        var structures = new List<byte[]>
        {
            SystemInformation(p),
            Chassis(p),
        };
        for (int socket = 0; socket < p.Sockets; socket++)
        {
            structures.Add(Processor(p, socket));
        }

        // smbios_get_tables builds type 11 after the processors and before the memory (type 8,
        // port connectors, only with -smbios type=8, between them).
        if (p.OemStrings.Count > 0)
        {
            structures.Add(OemStrings(p.OemStrings));
        }

        int devices = (int)((p.RamSize + MaxDeviceSize - 1) / MaxDeviceSize);
        structures.Add(MemoryArray(p.RamSize, devices));
        for (int i = 0; i < devices; i++)
        {
            ulong size = i < devices - 1 ? MaxDeviceSize : ((p.RamSize - 1) % MaxDeviceSize) + 1;
            structures.Add(MemoryDevice(p, i, size));
        }

        // More devices than the 0x200 handles between types 17 and 19 push the type 19 handles
        // up, as QEMU does; they must still stay below type 32's.
        int gap = Handle(MappedAddressType, 0) - Handle(MemoryDeviceType, 0);
        int offset = Math.Max(0, devices - gap);
        if (offset + p.RamRanges.Count >= Handle(BootInformationType, 0) - Handle(MappedAddressType, 0))
        {
            throw new ArgumentException($"{devices} memory devices and {p.RamRanges.Count} RAM ranges overflow QEMU's type 19 handles", nameof(p));
        }

        for (int i = 0; i < p.RamRanges.Count; i++)
        {
            structures.Add(MappedAddress(offset + i, p.RamRanges[i].Base, p.RamRanges[i].Length));
        }

        structures.Add(new SmbiosStructure(BootInformationType, Handle(BootInformationType, 0))
            .Bytes(new byte[6])              // reserved
            .Byte(0)                         // boot status: no errors detected
            .ToArray());
        structures.Add(new SmbiosStructure(EndOfTableType, Handle(EndOfTableType, 0)).ToArray());

        // Concatenated by hand: SelectMany over bytes is JIT-compiled framework code (no
        // ReadyToRun for generics over value types), paid at every machine's construction.
        int total = 0, largest = 0;
        foreach (byte[] structure in structures)
        {
            total += structure.Length;
            largest = Math.Max(largest, structure.Length);
        }

        var all = new byte[total];
        int at = 0;
        foreach (byte[] structure in structures)
        {
            structure.CopyTo(all, at);
            at += structure.Length;
        }

        return new SmbiosTables(all, structures.Count, largest);
    }

    /// <summary>
    /// Type 11 (smbios_build_type_11_table): handle 0xE00, the count of values given — empty ones
    /// included, though SMBIOS_TABLE_SET_STR_LIST leaves them out of the string set.
    /// </summary>
    private static byte[] OemStrings(IReadOnlyList<byte[]> values)
    {
        if (values.Count > byte.MaxValue)
        {
            throw new SmbiosLimitException($"{values.Count} SMBIOS OEM strings: a type 11 structure counts at most 255");
        }

        var s = new SmbiosStructure(OemStringsType, OemStringsHandle).Byte((byte)values.Count);
        foreach (byte[] value in values)
        {
            s.ListString(value);
        }

        return s.ToArray();
    }

    private static byte[] SystemInformation(SmbiosPlatform p) =>
        new SmbiosStructure(SystemType, Handle(SystemType, 0))
            .String(p.Manufacturer)
            .String(p.Product)
            .String(p.Version)
            .String(null)                    // serial number
            .Bytes(p.Uuid.ToByteArray())     // SMBIOS 2.6+ wire order: the first three fields little-endian
            .Byte(0x06)                      // wake-up type: power switch
            .String(null)                    // SKU number
            .String(null)                    // family
            .ToArray();

    private static byte[] Chassis(SmbiosPlatform p) =>
        new SmbiosStructure(ChassisType, Handle(ChassisType, 0))
            .String(p.Manufacturer)
            .Byte(0x01)                      // type: other
            .String(p.Version)
            .String(null)                    // serial number
            .String(null)                    // asset tag
            .Byte(0x03)                      // boot-up state: safe
            .Byte(0x03)                      // power supply state: safe
            .Byte(0x03)                      // thermal state: safe
            .Byte(0x02)                      // security status: unknown
            .DWord(0)                        // OEM-defined
            .Byte(0)                         // height: unspecified
            .Byte(0)                         // power cords: unspecified
            .Byte(0)                         // contained elements
            .Byte(0)                         // contained element record length
            .String(null)                    // SKU number
            .ToArray();

    /// <summary>The 2.6 layout QEMU uses under a 2.x entry point (42 bytes, no 3.0 core/thread words).</summary>
    private static byte[] Processor(SmbiosPlatform p, int socket) =>
        new SmbiosStructure(ProcessorType, Handle(ProcessorType, socket))
            .String($"{SocketPrefix}{socket,2:x}")   // QEMU's "%s%2x": "CPU 0"
            .Byte(0x03)                      // processor type: central processor
            .Byte(0x01)                      // family: other
            .String(p.Manufacturer)
            .DWord(p.ProcessorSignature)     // processor ID: CPUID.1 EAX, then EDX
            .DWord(p.ProcessorFeatures)
            .String(p.Version)
            .Byte(0)                         // voltage: not given
            .Word(0)                         // external clock: unknown
            .Word(p.ProcessorSpeedMhz)       // max speed
            .Word(p.ProcessorSpeedMhz)       // current speed
            .Byte(0x41)                      // status: socket populated, CPU enabled
            .Byte(0x01)                      // upgrade: other
            .Word(NoHandle)                  // L1, L2, L3 cache handles
            .Word(NoHandle)
            .Word(NoHandle)
            .String(null)                    // serial number
            .String(null)                    // asset tag
            .String(null)                    // part number
            .Byte(Clamp(p.CoresPerSocket))   // core count
            .Byte(Clamp(p.CoresPerSocket))   // cores enabled
            .Byte(Clamp(p.ThreadsPerSocket)) // thread count
            .Word(0x02)                      // characteristics: unknown
            .Word(0x01)                      // family 2: other
            .ToArray();

    private static byte[] MemoryArray(ulong ramSize, int devices)
    {
        ulong kib = (ramSize + 1023) / 1024;
        bool small = kib < MaxCapacityKib;
        return new SmbiosStructure(MemoryArrayType, Handle(MemoryArrayType, 0))
            .Byte(0x01)                      // location: other
            .Byte(0x03)                      // use: system memory
            .Byte(0x06)                      // error correction: multi-bit ECC
            .DWord((uint)(small ? kib : MaxCapacityKib))
            .Word(NoErrorInformation)
            .Word((ushort)devices)
            .QWord(small ? 0 : ramSize)      // extended maximum capacity, bytes
            .ToArray();
    }

    /// <summary>
    /// A device of at most <see cref="MaxDeviceSize"/> (16,384 MiB) always fits the 16-bit size
    /// field (MiB below 0x7FFF), so the extended size stays 0 as QEMU leaves it then.
    /// </summary>
    private static byte[] MemoryDevice(SmbiosPlatform p, int instance, ulong size)
    {
        ushort mib = (ushort)((size + (1UL << 20) - 1) >> 20);
        return new SmbiosStructure(MemoryDeviceType, Handle(MemoryDeviceType, instance))
            .Word(Handle(MemoryArrayType, 0))
            .Word(NoErrorInformation)
            .Word(0xFFFF)                    // total width: unknown
            .Word(0xFFFF)                    // data width: unknown
            .Word(mib)
            .Byte(0x09)                      // form factor: DIMM
            .Byte(0)                         // device set: none
            .String($"{DeviceLocatorPrefix} {instance}")
            .String(null)                    // bank locator
            .Byte(0x07)                      // memory type: RAM
            .Word(0x02)                      // type detail: other
            .Word(0)                         // speed: unknown
            .String(p.Manufacturer)
            .String(null)                    // serial number
            .String(null)                    // asset tag
            .String(null)                    // part number
            .Byte(0)                         // attributes: unknown rank
            .DWord(0)                        // extended size
            .Word(0)                         // configured clock speed (QEMU repeats the speed)
            .Word(0)                         // minimum, maximum, configured voltage: unknown
            .Word(0)
            .Word(0)
            .ToArray();
    }

    private static byte[] MappedAddress(int instance, ulong start, ulong length)
    {
        ulong end = start + length - 1;
        bool small = start / 1024 < MaxAddressKib && end / 1024 < MaxAddressKib;
        return new SmbiosStructure(MappedAddressType, Handle(MappedAddressType, instance))
            .DWord(small ? (uint)(start / 1024) : uint.MaxValue)
            .DWord(small ? (uint)(end / 1024) : uint.MaxValue)
            .Word(Handle(MemoryArrayType, 0))
            .Byte(1)                         // partition width: one device per row
            .QWord(small ? 0 : start)        // extended starting and ending address, bytes
            .QWord(small ? 0 : end)
            .ToArray();
    }

    private static byte Clamp(int count) => (byte)Math.Min(count, byte.MaxValue);
}

/// <summary>What the user asked for does not fit SMBIOS (too many or too long OEM strings): the machine is refused with this message.</summary>
public sealed class SmbiosLimitException(string message) : ArgumentException(message);
