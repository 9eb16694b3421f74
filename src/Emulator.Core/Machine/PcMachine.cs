using Emulator.Core.Devices.CfiFlash;
using Emulator.Core.Io;
using Emulator.Core.Memory;
using Emulator.Core.Timing;

namespace Emulator.Core.Machine;

/// <summary>
/// QEMU's i440FX "pc" machine — or, with <see cref="MachineOptions.Chipset"/> Q35, its "q35"
/// machine (docs/q35.md) — with one CPU, as OVMF sees it: the only place that knows addresses. RAM from 0 (the 0xA0000–0xFFFFF hole excluded, as on QEMU where that window
/// belongs to VGA and PAM-controlled ROM), RAM above 4 GiB when the size needs it, the CFI flash
/// chips placed by <see cref="FlashLayout"/>, the one-time copy of unit 0's last 128 KiB at
/// 0xE0000, and the platform devices wired to the port and memory buses.
/// </summary>
public sealed unsafe partial class PcMachine : IDisposable
{
    /// <summary>QEMU i440FX: RAM above this (with gigabyte alignment) moves above 4 GiB.</summary>
    public const ulong LowMemoryLimit = 0xE0000000;
    public const ulong LowMemorySplit = 0xC0000000;
    public const ulong LegacyHoleStart = 0xA0000;
    public const ulong LegacyHoleEnd = 0x100000;

    private readonly List<CfiFlash> _flash = [];
    private GuestRam _ram = null!;

    public PcMachine(MachineOptions options)
    {
        Options = options;
        if (options.RamSize < (2UL << 20) || options.RamSize % PhysicalBus.PageSize != 0)
        {
            throw new FirmwareLayoutException("memory size must be at least 2 MiB and a multiple of 4 KiB");
        }

        // QEMU pc_system_firmware_init: flash when a pflash drive is given, else the -bios ROM.
        var placements = options.Flash.Count == 0 && options.Bios != null
            ? []
            : FlashLayout.Place(options.Flash.Select(f => (f.Name, (ulong?)(ulong)f.Contents.Length)).ToList(), options.MaxFirmwareSize);
        if (placements.Count == 0 && options.Bios is { } bios)
        {
            FlashLayout.CheckBiosSize("the BIOS image", (ulong)bios.Length);
        }

        Bus = new PhysicalBus { UnassignedReadsZero = options.UnassignedReadsZero };
        Ports = new PortBus(Bus.Unassigned);
        Scheduler = new Scheduler();
        Cpu = new Cpu.Cpu(Bus, Ports, options.CpuModel) { Scheduler = Scheduler, SmmSaveMap32 = options.SmmSaveMap32 };
        Bus.InstructionCounter = () => Cpu.InstructionCount;
        Ports.InstructionCounter = () => Cpu.InstructionCount;
        FlashPlacements = placements;

        MapRam(options.RamSize);
        if (placements.Count > 0)
        {
            MapFlash(options, placements);
        }
        else
        {
            MapBios(options.Bios!);
        }

        WireDevices(options);
    }

    public MachineOptions Options { get; }

    public PhysicalBus Bus { get; }

    public PortBus Ports { get; }

    public Scheduler Scheduler { get; }

    public Cpu.Cpu Cpu { get; }

    public IReadOnlyList<FlashPlacement> FlashPlacements { get; }

    public IReadOnlyList<CfiFlash> FlashChips => _flash;

    /// <summary>RAM below 4 GiB (bytes), as the CMOS and fw_cfg report it.</summary>
    public ulong LowRamSize { get; private set; }

    public ulong HighRamSize { get; private set; }

    /// <summary>
    /// The host memory behind guest RAM at <paramref name="address"/> (below 4 GiB: low RAM,
    /// including the 0xA0000–0xFFFFF range the base map leaves to VGA and the PAM; from 4 GiB:
    /// high RAM), for the chipset's aliases of RAM (PAM, SMRAM).
    /// </summary>
    public byte* RamHost(ulong address)
    {
        if (address < LowRamSize)
        {
            return _ram.Host + address;
        }

        if (address >= FlashLayout.FourGiB && address - FlashLayout.FourGiB < HighRamSize)
        {
            return _ram.Host + LowRamSize + (address - FlashLayout.FourGiB);
        }

        throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:X} is not guest RAM");
    }

    private void MapRam(ulong size)
    {
        // QEMU pc_init1 with gigabyte alignment: 3 GiB below 4 GiB once RAM reaches 3.5 GiB;
        // pc_q35_init: all of it below 0xB0000000, else 2 GiB.
        LowRamSize = Options.Chipset == PcChipset.Q35 ? Q35LowRam(size) : size >= LowMemoryLimit ? LowMemorySplit : size;
        HighRamSize = size - LowRamSize;
        _ram = GuestRam.Allocate(size);
        byte* ram = _ram.Host;
        Bus.MapRam("ram-low", 0, Math.Min(LowRamSize, LegacyHoleStart), ram);
        if (LowRamSize > LegacyHoleEnd)
        {
            Bus.MapRam("ram", LegacyHoleEnd, LowRamSize - LegacyHoleEnd, ram + LegacyHoleEnd);
        }

        if (HighRamSize > 0)
        {
            Bus.MapRam("ram-high", FlashLayout.FourGiB, HighRamSize, ram + LowRamSize);
        }
    }

    private void MapFlash(MachineOptions options, IReadOnlyList<FlashPlacement> placements)
    {
        foreach (var p in placements)
        {
            var image = options.Flash[p.Unit];
            byte* host = Bus.Allocate(p.Size);
            image.Contents.AsSpan().CopyTo(new Span<byte>(host, (int)p.Size));
            var chip = new CfiFlash($"pflash{p.Unit}", host, p.Size, image.ReadOnly, options.SecureFlash);
            Cpu.SmmChanged += chip.SetSmm;
            var region = Bus.MapRomDevice(chip.Name, p.Base, p.Size, host, chip);
            chip.Attach(Bus, region);
            _flash.Add(chip);
            AddDevice(chip);
        }

        // The ISA BIOS window: a read-only copy of unit 0's top 128 KiB made once at machine
        // start (QEMU pc_isa_bios_init); later flash writes do not show through.
        MapIsaBiosCopy(options.Flash[0].Contents);
    }

    /// <summary>
    /// QEMU's <c>-bios</c> without pflash (x86_bios_rom_init): the image as ROM ending at 4 GiB —
    /// writes are ignored, so OVMF finds no flash and keeps its variables in memory — and the
    /// same ISA BIOS copy below 1 MiB.
    /// </summary>
    private void MapBios(byte[] bios)
    {
        Bus.MapRom("bios", FlashLayout.FourGiB - (ulong)bios.Length, bios);
        MapIsaBiosCopy(bios);
    }

    private void MapIsaBiosCopy(byte[] image)
    {
        int copy = (int)Math.Min(FlashLayout.IsaBiosWindowSize, (ulong)image.Length);
        Bus.MapRom("isa-bios", FlashLayout.IsaBiosWindowEnd - (ulong)copy, image.AsSpan(image.Length - copy, copy));
    }

    public void Dispose()
    {
        Cpu.StopCompiler();
        Bus.Dispose();
        _ram.Dispose();
    }
}
