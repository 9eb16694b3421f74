using Emulator.Core.Cpu;
using Emulator.Core.Memory;
using Emulator.Firmware;

namespace Emulator.Hosting.Boot;

/// <summary>
/// Recognises firmware modules as they start executing, wherever they run: PEIMs executed in
/// place from a volume (at the entry address the build linked them for) and images loaded and
/// relocated into RAM by the PEI and DXE loaders (DXE core, drivers, the Shell). Whenever the
/// CPU decodes a block at address X, each distinct entry offset d of the modules in the firmware
/// image (AddressOfEntryPoint minus the header's RVA) gives a candidate header at X − d; when
/// the memory there holds a PE ("MZ") or TE ("VZ") header that matches a module of the image
/// (format, machine, entry point, image size, sections, stripped size), X is that module's entry
/// and the module has started. The PE header is found where the DOS header's e_lfanew says,
/// wherever the linker put it (0xE58 is common): the bytes parsed in place span at most the
/// largest header extent among the image's own modules, so a stray "MZ" with a wild e_lfanew
/// reads no further and allocates nothing. Only reads memory the bus maps to RAM or ROM
/// directly, so it has no effect on devices or on the unassigned-access log.
///
/// Each started module gets an <see cref="ExecutionCounter"/> for its image range (RVA 0 to
/// SizeOfImage): blocks decoded inside it tally the instructions they execute there,
/// which gives the timeline's "instructions inside". Where images overlap (a PEIM shadowed over
/// memory another used), the most recently started one wins.
/// </summary>
internal sealed unsafe class ModuleRecognizer
{
    private readonly PhysicalBus _bus;
    private readonly Cpu _cpu;
    private readonly Dictionary<ulong, List<FirmwareModule>> _byEntryOffset = [];
    private readonly Dictionary<ulong, FirmwareModule> _xipEntries = [];
    private readonly HashSet<ulong> _seenEntries = [];
    private readonly List<ModuleStart> _started = [];
    private readonly int _headerExtent;

    public ModuleRecognizer(Cpu cpu, PhysicalBus bus, IEnumerable<FirmwareModule> modules)
    {
        _cpu = cpu;
        _bus = bus;
        foreach (var m in modules)
        {
            ulong offset = unchecked(m.Image.AddressOfEntryPoint - (ulong)m.Image.HeaderRva);
            if (!_byEntryOffset.TryGetValue(offset, out var list))
            {
                _byEntryOffset[offset] = list = [];
            }

            list.Add(m);
            _headerExtent = Math.Max(_headerExtent, m.Image.HeaderExtent);
            if (m.Image.ImageBase != 0)
            {
                _xipEntries.TryAdd(m.EntryAddress, m);
            }
        }

        cpu.BlockDecoding += OnBlockDecoding;
        cpu.CounterForBlock = CounterFor;
    }

    /// <summary>
    /// A module that started: where its header sat, its entry, the instruction index of its first
    /// instruction, the boot it belongs to, and the tally of instructions executed inside its image since.
    /// </summary>
    public sealed record ModuleStart(FirmwareModule Module, ulong HeaderAddress, ulong Entry, long Instruction, long VirtualNs, int Boot, ExecutionCounter Inside)
    {
        /// <summary>Where the image's RVA 0 lies (below the header for TE images, whose header replaces stripped bytes).</summary>
        public ulong ImageStart => unchecked(HeaderAddress - (ulong)Module.Image.HeaderRva);

        public ulong ImageEnd => ImageStart + Module.Image.SizeOfImage;
    }

    /// <summary>The boot the next module starts belong to (after a machine reset, modules start again).</summary>
    public int Boot { get; private set; }

    /// <summary>A machine reset: every module may start again, in boot <paramref name="boot"/>.</summary>
    public void BeginBoot(int boot)
    {
        Boot = boot;
        _seenEntries.Clear();

        // Blocks decoded in the last boot would neither announce their modules again (only
        // decoding does) nor count into this boot's counters: decode afresh (no guest-visible effect).
        _cpu.FlushCodeCache();
    }

    public IReadOnlyList<ModuleStart> Started => _started;

    /// <summary>
    /// Continues a saved session (a restored state file): the modules that had started, with
    /// their tallies, and the boot. Each is found among this image's modules by file GUID, type
    /// and entry; one the image lacks is left out.
    /// </summary>
    public void Restore(int boot, IEnumerable<(Guid File, string Type, ulong Header, ulong Entry, long Instruction, long VirtualNs, int Boot, long Inside)> started)
    {
        Boot = boot;
        var modules = _byEntryOffset.Values.SelectMany(list => list).Concat(_xipEntries.Values).Distinct().ToList();
        foreach (var s in started)
        {
            if (modules.FirstOrDefault(m => m.FileGuid == s.File && m.Type.ToString() == s.Type) is { } module)
            {
                _started.Add(new ModuleStart(module, s.Header, s.Entry, s.Instruction, s.VirtualNs, s.Boot, new ExecutionCounter(s.Inside)));
                if (s.Boot == boot)
                {
                    _seenEntries.Add(s.Entry);
                }
            }
        }
    }

    /// <summary>Raised (CPU thread, before the entry's first instruction) when a module starts.</summary>
    public event Action<ModuleStart>? ModuleStarted;

    private void OnBlockDecoding(ulong linear)
    {
        if (_seenEntries.Contains(linear))
        {
            return;
        }

        foreach (var (offset, candidates) in _byEntryOffset)
        {
            ulong header = unchecked(linear - offset);
            if (header > linear || !TryPeekSignature(header))
            {
                continue;
            }

            if (Match(header, candidates) is { } module)
            {
                Start(module, header, linear);
                return;
            }
        }

        if (_xipEntries.TryGetValue(linear, out var xip))
        {
            Start(xip, xip.Image.HeaderAddress, linear);
        }
    }

    private void Start(FirmwareModule module, ulong header, ulong entry)
    {
        _seenEntries.Add(entry);
        var start = new ModuleStart(module, header, entry, _cpu.InstructionCount, _cpu.VirtualTime, Boot, new ExecutionCounter());
        _started.Add(start);
        ModuleStarted?.Invoke(start);
    }

    private ExecutionCounter? CounterFor(ulong linear) => ModuleAt(linear)?.Inside;

    /// <summary>The module of this boot whose image holds <paramref name="linear"/> (the most recently started where images overlap); null outside every recognised image.</summary>
    public ModuleStart? ModuleAt(ulong linear)
    {
        for (int i = _started.Count - 1; i >= 0; i--)
        {
            var m = _started[i];
            if (m.Boot == Boot && linear >= m.ImageStart && linear < m.ImageEnd)
            {
                return m;
            }
        }

        return null;
    }

    private bool TryPeekSignature(ulong address)
    {
        // Firmware runs identity-mapped (SEC, PEI and DXE page tables map 1:1), so the linear
        // address is the physical one.
        byte* p = _bus.ReadPointer(address);
        if (p == null || _bus.Find(address).End - address < 2)
        {
            return false;
        }

        return (p[0] == 'M' && p[1] == 'Z') || (p[0] == 'V' && p[1] == 'Z');
    }

    private FirmwareModule? Match(ulong header, List<FirmwareModule> candidates)
    {
        // The loaders copy the headers verbatim, so a module's header in memory spans what it
        // spans in the image; parsed in place (the region is one host block, as TryPeekSignature found).
        int length = (int)Math.Min((ulong)_headerExtent, _bus.Find(header).End - header);
        if (!PeImageInfo.TryParse(new ReadOnlySpan<byte>(_bus.ReadPointer(header), length), out var image) || image == null)
        {
            return null;
        }

        foreach (var m in candidates)
        {
            var want = m.Image;
            if (want.Format == image.Format && want.Machine == image.Machine && want.AddressOfEntryPoint == image.AddressOfEntryPoint
                && want.SizeOfImage == image.SizeOfImage && want.NumberOfSections == image.NumberOfSections && want.StrippedSize == image.StrippedSize)
            {
                return m;
            }
        }

        return null;
    }
}
