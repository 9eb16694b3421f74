using System.Diagnostics;
using Emulator.Core.Cpu;

namespace Emulator.Hosting.Boot;

/// <summary>
/// Records the boot milestones as the CPU reaches them: <c>reset</c> (the first instruction),
/// <c>protected</c> and <c>long</c> (the first instruction executed in 32-bit protected mode and
/// in 64-bit mode), and address milestones (<c>sec</c>, <c>pei</c>) found in the firmware image
/// itself and watched with breakpoints, module milestones (<c>dxe</c>, <c>bds</c>, <c>shell</c>)
/// reported by the module recognizer, <c>loader</c> (the first image the boot manager starts from
/// a boot option, see <see cref="Watch(LoadedImageProbe)"/>), and console milestones (<c>banner</c>, <c>prompt</c>)
/// reported by the console transcript, and <c>idle</c> (the firmware waits for the user, see
/// <see cref="IdleDetector"/>), which keeps the screen's text. Stops the run at the <c>--until</c> milestone (its first
/// occurrence). After a machine reset <see cref="BeginBoot"/> starts a new boot: every milestone
/// can be reached once more, recorded with its boot number, and the console milestones look only
/// at text printed after the reset.
/// </summary>
public sealed class MilestoneTracker
{
    /// <summary>Milestone <c>reset</c>: the first instruction at the reset vector.</summary>
    public const string Reset = "reset";
    /// <summary>Milestone <c>protected</c>: the first instruction in protected mode.</summary>
    public const string Protected = "protected";
    /// <summary>Milestone <c>long</c>: the first instruction in long mode.</summary>
    public const string Long = "long";
    /// <summary>Milestone <c>sec</c>: SEC's entry point (SECURITY_CORE).</summary>
    public const string Sec = "sec";
    /// <summary>Milestone <c>pei</c>: the PEI core's entry point.</summary>
    public const string Pei = "pei";
    /// <summary>Milestone <c>dxe</c>: the DXE core's first instruction.</summary>
    public const string Dxe = "dxe";
    /// <summary>Milestone <c>bds</c>: the BDS phase's first module.</summary>
    public const string Bds = "bds";
    /// <summary>Milestone <c>loader</c>: the first image BDS starts from a boot option that is not one of the firmware's own (an OS loader from a disk, CD or the network), with its device path.</summary>
    public const string Loader = "loader";
    /// <summary>Milestone <c>shell</c>: the UEFI Shell's first instruction.</summary>
    public const string Shell = "shell";
    /// <summary>Milestone <c>banner</c>: the Shell's banner on the console.</summary>
    public const string Banner = "banner";
    /// <summary>Milestone <c>prompt</c>: the Shell's prompt on the console.</summary>
    public const string Prompt = "prompt";
    /// <summary>Milestone <c>idle</c>: the firmware waiting for input with nothing left to do.</summary>
    public const string Idle = "idle";

    /// <summary>What the console shows when the Shell starts (ShellPkg's banner) and when it waits for a command.</summary>
    public const string BannerText = "UEFI Interactive Shell";
    /// <summary>The console text of the <see cref="Prompt"/> milestone.</summary>
    public const string PromptText = "Shell>";

    /// <summary>
    /// Every milestone name, in boot order. <c>loader</c> and <c>shell</c> both follow <c>bds</c>
    /// and are alternatives: BDS tries the boot options in BootOrder, where OVMF puts the disks
    /// and the network before the built-in Shell (OvmfPkg PlatformBootManagerLib), so a loader,
    /// when there is one, starts first.
    /// </summary>
    public static readonly IReadOnlyList<string> KnownNames = [Reset, Protected, Long, Sec, Pei, Dxe, Bds, Loader, Shell, Banner, Prompt, Idle];

    private readonly Cpu _cpu;
    private readonly Stopwatch _wall;
    private readonly Dictionary<ulong, string> _addressMilestones;
    private readonly List<Milestone> _reached = [];
    private ConsoleTranscript? _console;
    private IdleDetector? _idle;
    private int _boot;
    private int _consoleFrom;

    /// <summary>Watches <paramref name="cpu"/> for the milestones: <paramref name="addressMilestones"/> by address (sec, pei), <paramref name="until"/> stops the CPU when reached; <paramref name="wall"/> times them.</summary>
    public MilestoneTracker(Cpu cpu, Stopwatch wall, IReadOnlyDictionary<string, ulong> addressMilestones, string? until)
    {
        _cpu = cpu;
        _wall = wall;
        Until = until;
        _addressMilestones = addressMilestones.ToDictionary(kv => kv.Value, kv => kv.Key);
        foreach (var address in _addressMilestones.Keys)
        {
            cpu.AddBreakpoint(address);
        }

        cpu.ModeEntered = OnModeEntered;
        cpu.BreakpointHit = OnBreakpoint;
    }

    /// <summary>The milestone that stops the run, or null.</summary>
    public string? Until { get; }

    /// <summary>The milestones reached so far, in order (each once per boot).</summary>
    public IReadOnlyList<Milestone> Reached => _reached;

    /// <summary>Whether <see cref="Until"/> was reached.</summary>
    public bool UntilReached => Until != null && _reached.Any(m => m.Name == Until);

    /// <summary>Raised as each milestone is reached (for progress output).</summary>
    public event Action<Milestone>? MilestoneReached;

    /// <summary>Whether <paramref name="name"/> was reached in the current boot.</summary>
    public bool IsReached(string name) => _reached.Any(m => m.Name == name && m.Boot == _boot);

    /// <summary>
    /// Continues a saved session (a restored state file): the milestones already reached keep
    /// their instruction indices and are not recorded again; the console milestones of boot
    /// <paramref name="boot"/> look at text from <paramref name="consoleFrom"/>. Call before <see cref="Watch(ConsoleTranscript)"/>.
    /// </summary>
    public void Restore(IEnumerable<Milestone> reached, int boot, int consoleFrom)
    {
        _reached.AddRange(reached);
        _boot = boot;
        _consoleFrom = consoleFrom;
    }

    /// <summary>Where the current boot's console text starts (what <see cref="Restore"/> takes back).</summary>
    public int ConsoleFrom => _consoleFrom;

    /// <summary>The current boot (0 from power-on).</summary>
    public int CurrentBoot => _boot;

    /// <summary>A machine reset happened: milestones count again, as boot <paramref name="boot"/>.</summary>
    public void BeginBoot(int boot)
    {
        _boot = boot;
        if (_console != null)
        {
            _consoleFrom = _console.TextLength;
            WatchConsole(_consoleFrom);
        }

        _idle?.BeginBoot();
    }

    /// <summary>Records <paramref name="name"/> now, unless it was reached before (CPU thread, inside an instruction).</summary>
    public void Reach(string name)
    {
        if (!IsReached(name))
        {
            Record(name, _cpu.Bitness);
        }
    }

    /// <summary>Whether <paramref name="module"/> is EDK II's boot device selection driver, whose start is <c>bds</c>.</summary>
    private static bool IsBds(Firmware.FirmwareModule module) => module.Type == Firmware.FfsFileType.Driver && module.Name == "BdsDxe";

    /// <summary>
    /// Turns module starts into milestones, by what the firmware image says the module is: the
    /// FFS file of type DXE_CORE (<c>dxe</c>), the driver named BdsDxe (<c>bds</c>, EDK II's boot
    /// device selection driver), and an APPLICATION whose UI name contains "Shell" (<c>shell</c>).
    /// </summary>
    internal void Watch(ModuleRecognizer modules)
    {
        modules.ModuleStarted += m =>
        {
            var module = m.Module;
            if (module.Type == Firmware.FfsFileType.DxeCore)
            {
                Reach(Dxe);
            }
            else if (IsBds(module))
            {
                Reach(Bds);
            }
            else if (module.Type == Firmware.FfsFileType.Application && module.Name?.Contains("Shell", StringComparison.Ordinal) == true)
            {
                Reach(Shell);
            }
        };
    }

    /// <summary>
    /// Turns the first image the boot manager starts from a boot option into <c>loader</c>: an
    /// image outside the firmware's modules, after <c>bds</c>, whose loaded image has no parent
    /// handle and whose device path names no firmware-volume file (not the Shell or UiApp from
    /// the flash). BdsDxe's EfiBootManagerBoot loads the option's image with gBS->LoadImage
    /// (TRUE, gImageHandle, ...), then sets its ParentHandle to NULL "because the image is loaded
    /// directly from the firmwares boot manager" before StartImage (MdeModulePkg
    /// UefiBootManagerLib BmBoot.c; UEFI spec 9.1: ParentHandle is NULL for such an image). An
    /// image that a loader loads in turn (GRUB from shim) comes later in the boot: one <c>loader</c> per boot.
    /// </summary>
    internal void Watch(LoadedImageProbe images)
    {
        images.ImageStarted += image =>
        {
            if (image.ParentHandle == 0 && !image.FromFirmwareVolume && IsReached(Bds) && !IsReached(Loader))
            {
                Record(Loader, _cpu.Bitness, image: image);
            }
        };
    }

    /// <summary>Turns the console's banner and prompt into milestones.</summary>
    internal void Watch(ConsoleTranscript console)
    {
        _console = console;
        WatchConsole(_consoleFrom);
    }

    /// <summary>Turns the idle detector's verdict into the <c>idle</c> milestone, with what <paramref name="screen"/> shows then.</summary>
    internal void Watch(IdleDetector idle, Serial.TerminalScreen screen)
    {
        _idle = idle;
        idle.Detected += () =>
        {
            if (!IsReached(Idle))
            {
                Record(Idle, _cpu.Bitness, screen.Text());
            }
        };
    }

    private void WatchConsole(int from)
    {
        int boot = _boot;
        _console!.WatchFor(BannerText, from, _ => ReachInBoot(Banner, boot));
        _console.WatchFor(PromptText, from, _ => ReachInBoot(Prompt, boot));
    }

    /// <summary>A console watch armed in an earlier boot that matches only now belongs to that boot: dropped.</summary>
    private void ReachInBoot(string name, int boot)
    {
        if (boot == _boot)
        {
            Reach(name);
        }
    }

    private void OnModeEntered(Cpu cpu, int bitness)
    {
        if (!IsReached(Reset))
        {
            Record(Reset, bitness);
        }

        bool protectedMode = (cpu.Cr0 & CrBits.PE) != 0;
        if (bitness == 32 && protectedMode && !IsReached(Protected))
        {
            Record(Protected, bitness);
        }
        else if (bitness == 64 && !IsReached(Long))
        {
            Record(Long, bitness);
        }
    }

    private bool OnBreakpoint(Cpu cpu, ulong linear)
    {
        if (_addressMilestones.TryGetValue(linear, out var name) && !IsReached(name))
        {
            Record(name, cpu.Bitness);
        }

        return Until != null && name == Until && _reached.Count(r => r.Name == Until) == 1 && IsReached(Until);
    }

    private void Record(string name, int bitness, IReadOnlyList<string>? screen = null, LoadedImage? image = null)
    {
        var m = new Milestone(name, _cpu.InstructionCount, _cpu.LinearRip, bitness, _wall.Elapsed.TotalMilliseconds, _cpu.VirtualTime, _boot, screen, image);
        _reached.Add(m);
        MilestoneReached?.Invoke(m);
        if (name == Until && !_reached.Take(_reached.Count - 1).Any(r => r.Name == Until))
        {
            _cpu.RequestStop(StopReason.Breakpoint, $"reached milestone {name}");
        }
    }
}
