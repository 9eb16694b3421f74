// QEMU firmware configuration device ("fw_cfg"), I/O-port variant of QEMU's pc machine, as
// hw/nvram/fw_cfg.c (fw_cfg_io) and docs/specs/fw_cfg.rst describe it.
// Addresses: selector 0x510 (16-bit write), data 0x511 (8-bit read; reads of 0x510 as a byte
// are data reads too, as QEMU's combined region does), DMA address 0x514–0x51B (FwCfgDmaPort).
// Emulated: items by 16-bit key (FW_CFG_ENTRY_MASK keeps bits 0–13; a key at or beyond the
// first key after the file slots is invalid), byte-wise reads that advance an offset and read 0
// past the end of an item, for an item without data, or with no valid selection; the file
// directory (key 0x19: big-endian count, then per file a big-endian size, select key, reserved
// word and 56-byte NUL-padded name, sorted by name as QEMU does for machines since 2.5); the
// DMA interface (FwCfgDmaPort: descriptor control/length/address read big-endian from guest
// memory, SELECT/READ/SKIP, control written back as 0 or ERROR); reset selects the signature;
// a file's select callback, run on every selection of it before any byte is read (QEMU
// fw_cfg_select calling select_cb: how the ACPI tables are rebuilt at the first read after a
// reset, fw_cfg_add_file_callback).
// DMA WRITE into a file added as writable (QEMU fw_cfg_add_file_callback with read_only false,
// fw_cfg_dma_transfer: the whole request must fit in the file; q35's etc/smi/requested-features);
// a DMA WRITE of any other item is an ERROR.
// Not emulated: data-port writes (QEMU removed them in 2.4), write callbacks (no file here has
// one), the MMIO variant.
// Firmware relies on: OVMF's QemuFwCfgLib checks the "QEMU" signature and the ID's DMA bit,
// then PlatformPei, the ACPI, SMBIOS and boot-order drivers find files by name in the directory.
using System.Buffers.Binary;
using System.Text;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.FwCfg;

/// <summary>The fw_cfg selector/data ports and item store; <see cref="DmaPort"/> is its DMA register.</summary>
public sealed class FwCfg : IPortDevice, IDevice
{
    public const ushort BasePort = 0x510;
    public const int PortCount = 2;
    public const ushort DmaBasePort = 0x514;
    public const int DmaPortCount = 8;

    public const ushort SignatureKey = 0x00;
    public const ushort IdKey = 0x01;
    public const ushort UuidKey = 0x02;
    public const ushort RamSizeKey = 0x03;
    public const ushort NoGraphicKey = 0x04;
    public const ushort NbCpusKey = 0x05;
    public const ushort BootMenuKey = 0x0E;
    public const ushort MaxCpusKey = 0x0F;
    public const ushort FileDirKey = 0x19;
    public const ushort FirstFileKey = 0x20;
    public const ushort FileSlots = 0x20;
    public const ushort EntryMask = 0x3FFF;
    public const ushort ArchLocal = 0x8000;
    public const ushort InvalidKey = 0xFFFF;

    /// <summary>FW_CFG_VERSION (traditional interface) and FW_CFG_VERSION_DMA bits of the ID item.</summary>
    public const uint IdTraditional = 0x01;
    public const uint IdDma = 0x02;

    public const int FileNameLength = 56;
    public const int FileEntrySize = 64;

    private readonly Dictionary<ushort, byte[]> _items = [];
    private readonly SortedDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Action> _selectCallbacks = [];
    private readonly HashSet<string> _writableFiles = new(StringComparer.Ordinal);
    private readonly List<byte[]> _fileData = [];
    private readonly List<Action?> _fileSelectCallbacks = [];
    private readonly List<bool> _fileWritable = [];
    private ushort _selected;
    private int _offset;

    /// <param name="bus">Guest physical memory for DMA transfers.</param>
    public FwCfg(PhysicalBus bus)
    {
        DmaPort = new FwCfgDmaPort(this, bus);
        AddBytes(SignatureKey, "QEMU"u8.ToArray());
        AddUInt32(IdKey, IdTraditional | IdDma);
        RebuildDirectory();
        Reset();
    }

    public string Name => "fw_cfg";

    /// <summary>The DMA address register, registered by the machine at <see cref="DmaBasePort"/>.</summary>
    public FwCfgDmaPort DmaPort { get; }

    /// <summary>The selected key (<see cref="InvalidKey"/> after an invalid selection).</summary>
    public ushort Selected => _selected;

    /// <summary>File names in directory order.</summary>
    public IEnumerable<string> FileNames => _files.Keys;

    public void AddBytes(ushort key, byte[] data)
    {
        if ((key & EntryMask) >= FirstFileKey && (key & ArchLocal) == 0)
        {
            throw new ArgumentException($"fw_cfg key 0x{key:X} is in the file range; use AddFile", nameof(key));
        }

        if (!_items.TryAdd(key, data))
        {
            throw new ArgumentException($"fw_cfg key 0x{key:X} is already used", nameof(key));
        }
    }

    /// <summary>Adds a little-endian 16-bit item (QEMU's fw_cfg_add_i16).</summary>
    public void AddUInt16(ushort key, ushort value)
    {
        var data = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(data, value);
        AddBytes(key, data);
    }

    public void AddUInt32(ushort key, uint value)
    {
        var data = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        AddBytes(key, data);
    }

    public void AddUInt64(ushort key, ulong value)
    {
        var data = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(data, value);
        AddBytes(key, data);
    }

    /// <summary>
    /// Adds a named file; keys are reassigned so the directory stays sorted by name. A file whose
    /// contents change stays the same array: the size in the directory is fixed when it is added.
    /// </summary>
    /// <param name="selected">Called whenever the guest selects the file (ports or DMA), before it reads.</param>
    /// <param name="writable">The guest may overwrite the bytes in place by DMA WRITE (QEMU's read_only = false).</param>
    public void AddFile(string name, byte[] data, Action? selected = null, bool writable = false)
    {
        if (name.Length == 0 || Encoding.ASCII.GetByteCount(name) >= FileNameLength)
        {
            throw new ArgumentException($"fw_cfg file name '{name}' must be 1–{FileNameLength - 1} characters", nameof(name));
        }

        if (_files.Count >= FileSlots)
        {
            throw new InvalidOperationException($"fw_cfg has only {FileSlots} file slots");
        }

        if (!_files.TryAdd(name, data))
        {
            throw new ArgumentException($"duplicate fw_cfg file name: {name}", nameof(name));
        }

        if (selected != null)
        {
            _selectCallbacks[name] = selected;
        }

        if (writable)
        {
            _writableFiles.Add(name);
        }

        RebuildDirectory();
    }

    /// <summary>The key a file is reachable at, or null.</summary>
    public ushort? FileKey(string name)
    {
        int index = 0;
        foreach (var key in _files.Keys)
        {
            if (key == name)
            {
                return (ushort)(FirstFileKey + index);
            }

            index++;
        }

        return null;
    }

    /// <summary>
    /// Device reset (QEMU fw_cfg_reset): the signature is selected and the DMA register forgets a
    /// half-written address. The items are the board's and stay.
    /// </summary>
    public void Reset()
    {
        Select(SignatureKey);
        DmaPort.Reset();
    }

    /// <summary>
    /// The selection, read offset and DMA register (QEMU vmstate "fw_cfg": cur_entry, cur_offset,
    /// dma_addr). The items are not saved: the machine builds the same ones from its options, and
    /// the ACPI tables' rebuild state is the "acpi-build" device's.
    /// </summary>
    public DeviceState SaveState() => new FwCfgState(_selected, _offset, DmaPort.Address, DmaPort.Transfers);

    /// <summary>Restores the selection without running a file's select callback (it ran when the guest selected it).</summary>
    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<FwCfgState>(state, this);
        _selected = s.Selected;
        _offset = s.Offset;
        DmaPort.Restore(s.DmaAddress, s.DmaTransfers);
    }

    public uint Read(ushort offset, int size)
    {
        // QEMU's combined region accepts byte reads at either port; wider reads are invalid
        // accesses, which read 0 there.
        return size == 1 ? ReadDataByte() : 0u;
    }

    public void Write(ushort offset, int size, uint value)
    {
        // A 16-bit write selects; byte writes were data writes, which QEMU ignores since 2.4.
        if (offset == 0 && size == 2)
        {
            Select((ushort)value);
        }
    }

    /// <summary>QEMU fw_cfg_select: resets the read offset; false when the key is out of range.</summary>
    internal bool Select(ushort key)
    {
        _offset = 0;
        if ((key & EntryMask) >= FirstFileKey + FileSlots)
        {
            _selected = InvalidKey;
            return false;
        }

        _selected = key;
        int file = (key & (EntryMask | ArchLocal)) - FirstFileKey;
        if ((key & ArchLocal) == 0 && file >= 0 && file < _fileSelectCallbacks.Count)
        {
            _fileSelectCallbacks[file]?.Invoke();
        }

        return true;
    }

    /// <summary>The selected item's data, or null when nothing valid is selected or the item has no data.</summary>
    internal byte[]? SelectedData()
    {
        if (_selected == InvalidKey)
        {
            return null;
        }

        ushort key = (ushort)(_selected & (EntryMask | ArchLocal));
        if ((key & ArchLocal) == 0 && key >= FirstFileKey)
        {
            int index = key - FirstFileKey;
            return index < _fileData.Count ? _fileData[index] : null;
        }

        return _items.GetValueOrDefault(key);
    }

    /// <summary>Whether DMA WRITE may store into the selected item (a file added as writable).</summary>
    internal bool SelectedWritable()
    {
        ushort key = (ushort)(_selected & (EntryMask | ArchLocal));
        int index = key - FirstFileKey;
        return _selected != InvalidKey && (key & ArchLocal) == 0 && index >= 0 && index < _fileWritable.Count && _fileWritable[index];
    }

    /// <summary>The read offset within the selected item (advanced by data reads and DMA).</summary>
    internal int Offset
    {
        get => _offset;
        set => _offset = value;
    }

    private byte ReadDataByte()
    {
        var data = SelectedData();
        if (data == null || _offset >= data.Length)
        {
            return 0;
        }

        return data[_offset++];
    }

    private void RebuildDirectory()
    {
        var dir = new byte[4 + (_files.Count * FileEntrySize)];
        BinaryPrimitives.WriteUInt32BigEndian(dir, (uint)_files.Count);
        int index = 0;
        _fileData.Clear();
        _fileSelectCallbacks.Clear();
        _fileWritable.Clear();
        foreach (var (name, data) in _files)
        {
            _fileData.Add(data);
            _fileSelectCallbacks.Add(_selectCallbacks.GetValueOrDefault(name));
            _fileWritable.Add(_writableFiles.Contains(name));
            var entry = dir.AsSpan(4 + (index * FileEntrySize), FileEntrySize);
            BinaryPrimitives.WriteUInt32BigEndian(entry, (uint)data.Length);
            BinaryPrimitives.WriteUInt16BigEndian(entry[4..], (ushort)(FirstFileKey + index));
            Encoding.ASCII.GetBytes(name, entry[8..]);
            index++;
        }

        _items[FileDirKey] = dir;
    }
}

/// <summary>The selected key, the read offset in it, the DMA address register's half-written value and the DMA transfer count.</summary>
public sealed record FwCfgState(ushort Selected, int Offset, ulong DmaAddress, long DmaTransfers) : DeviceState;
