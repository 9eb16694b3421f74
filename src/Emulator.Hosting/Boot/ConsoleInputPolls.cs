using Emulator.Core.Cpu;

namespace Emulator.Hosting.Boot;

/// <summary>
/// Calls of the firmware's console-input services, seen as input waits: an OS loader waiting
/// at its prompt does not halt and touches no device. GRUB on EFI polls
/// SystemTable->ConIn->ReadKeyStroke (or the console-in handle's
/// EFI_SIMPLE_TEXT_INPUT_EX_PROTOCOL.ReadKeyStrokeEx) in a loop, and its grub_cpu_idle is a no-op
/// (grub-core term/efi/console.c, kern/getkey.c); the firmware's console splitter answers from
/// the keys TerminalDxe's 20 ms timer has already fetched from the UART (edk2 ConSplitterDxe
/// ConSplitter.c, TerminalDxe TerminalConIn.c ReadKeyStrokeWorker), so between those timer polls
/// the machine sees nothing but the loop. A call of ReadKeyStroke is the loader asking "is
/// there a key?" — the same question as a read of the UART's line status — so each one counts as
/// an input wait for the <c>idle</c> rule, whatever it returns (a key typed makes the loader
/// echo it, and output opens a new window anyway).
///
/// When an image outside the firmware's modules starts (<see cref="LoadedImageProbe"/>), the
/// entry points of those two services are read from its system table and the handle database
/// and watched with breakpoints; a firmware that lacks one (or a garbled table) just watches
/// fewer. Breakpoints only observe: what the guest computes does not change, and the calls are
/// counted by instruction index, so the rule stays deterministic.
/// </summary>
internal sealed class ConsoleInputPolls
{
    /// <summary>EFI_SIMPLE_TEXT_INPUT_EX_PROTOCOL_GUID (UEFI spec 12.2).</summary>
    public static readonly Guid SimpleTextInputExProtocol = new("DD9E7534-7762-4698-8C14-F58517A625AA");

    private readonly Cpu _cpu;
    private readonly GuestMemoryRead _read;
    private readonly HashSet<ulong> _services = [];

    /// <param name="cpu">The CPU whose breakpoints watch the services.</param>
    /// <param name="read">Guest memory, for the system table and the handle database.</param>
    /// <param name="images">Images outside the firmware's modules: each start arms the services of its system table.</param>
    /// <param name="restored">Milestones of a restored session: a <c>loader</c> of the current boot arms the services at once (the image started before the state was saved).</param>
    public ConsoleInputPolls(Cpu cpu, GuestMemoryRead read, LoadedImageProbe images, IEnumerable<Milestone> restored)
    {
        _cpu = cpu;
        _read = read;
        var inner = cpu.BreakpointHit;
        cpu.BreakpointHit = (c, linear) =>
        {
            if (_services.Contains(linear))
            {
                Polled?.Invoke();
                c.IdleUntilNextDeadline();
            }

            return inner?.Invoke(c, linear) ?? false;
        };
        images.ImageStarted += image => Arm(image.SystemTable, image.PointerSize);
        images.BootBegan += BeginBoot;
        foreach (var image in restored.Select(m => m.Image).OfType<LoadedImage>())
        {
            Arm(image.SystemTable, image.PointerSize);
        }
    }

    /// <summary>Raised (CPU thread, before the service's first instruction) at each call of a console-input service.</summary>
    public event Action? Polled;

    /// <summary>The service entry points watched now.</summary>
    public IReadOnlyCollection<ulong> Services => _services;

    /// <summary>A machine reset: the last boot's services are gone.</summary>
    public void BeginBoot()
    {
        foreach (ulong address in _services)
        {
            _cpu.RemoveBreakpoint(address);
        }

        _services.Clear();
    }

    /// <summary>
    /// Watches the console-input services of <paramref name="systemTable"/>: EFI_SYSTEM_TABLE has
    /// ConsoleInHandle at 24 + 2N and ConIn at 24 + 3N after its 24-byte header, FirmwareVendor
    /// and FirmwareRevision (N = 8 on X64: 40 and 48; N = 4 on IA32: 32 and 36); both input
    /// protocols have their read service second, after Reset.
    /// </summary>
    public void Arm(ulong systemTable, int pointerSize)
    {
        ulong n = (ulong)pointerSize;
        if (_read.TryReadUnsigned(systemTable + 24 + (3 * n), pointerSize, out ulong conIn) && conIn != 0)
        {
            Watch(conIn + n, pointerSize);
        }

        if (_read.TryReadUnsigned(systemTable + 24 + (2 * n), pointerSize, out ulong conInHandle)
            && DxeHandleDatabase.FindInterface(_read, pointerSize, conInHandle, SimpleTextInputExProtocol) is { } inputEx && inputEx != 0)
        {
            Watch(inputEx + n, pointerSize);
        }
    }

    private void Watch(ulong servicePointer, int pointerSize)
    {
        if (_read.TryReadUnsigned(servicePointer, pointerSize, out ulong service) && service != 0 && _services.Add(service))
        {
            _cpu.AddBreakpoint(service);
        }
    }
}
