using Emulator.Core.Cpu;
using Emulator.Firmware;

namespace Emulator.Hosting.Boot;

/// <summary>
/// Recognises UEFI images that are not the firmware's own modules — an OS loader, a shim, a
/// driver from an option ROM or a disk — as they start, from what the UEFI ABI guarantees at
/// an image's entry point: it is called as EFI_IMAGE_ENTRY_POINT(ImageHandle, SystemTable)
/// (UEFI spec 4.1; X64: RCX and RDX, IA32: [ESP+4] and [ESP+8] under the C calling convention),
/// SystemTable starts with EFI_SYSTEM_TABLE_SIGNATURE "IBI SYST", and the DXE core has
/// installed EFI_LOADED_IMAGE_PROTOCOL and EFI_LOADED_IMAGE_DEVICE_PATH_PROTOCOL on
/// ImageHandle before calling it (edk2 Image.c CoreLoadImageCommon, CoreStartImage).
///
/// Whenever the CPU decodes a block outside every started firmware module whose entry arguments
/// hold a system table, the image handle's protocols are read from the handle database
/// (<see cref="DxeHandleDatabase"/>): the loaded image's ImageBase must hold a PE header whose
/// entry point is this very address, so a function that merely takes two such arguments is not
/// an image entry. The image's parent handle, its device path (as text), and its PE facts are
/// reported. Reads only memory through <see cref="GuestMemoryRead"/>:
/// nothing the guest sees changes, and a garbled database just means no image.
/// </summary>
internal sealed class LoadedImageProbe
{
    /// <summary>EFI_SYSTEM_TABLE_SIGNATURE, "IBI SYST" (UEFI spec 4.3).</summary>
    public const ulong SystemTableSignature = 0x5453595320494249;

    /// <summary>EFI_LOADED_IMAGE_PROTOCOL_GUID (UEFI spec 9.1).</summary>
    public static readonly Guid LoadedImageProtocol = new("5B1B31A1-9562-11D2-8E3F-00A0C969723B");

    /// <summary>EFI_LOADED_IMAGE_DEVICE_PATH_PROTOCOL_GUID (UEFI spec 9.2): the image's full device path.</summary>
    public static readonly Guid LoadedImageDevicePathProtocol = new("BC62157E-3E33-4FEC-9920-2D3B36D750DF");

    /// <summary>EFI_DEVICE_PATH_PROTOCOL_GUID (UEFI spec 10.2): a device handle's path.</summary>
    public static readonly Guid DevicePathProtocol = new("09576E91-6D3F-11D2-8E39-00A0C969723B");

    /// <summary>The PE header bytes read at an image's base (DOS header, e_lfanew and optional header fit one page in every UEFI image seen).</summary>
    private const int HeaderWindow = 4096;

    private readonly Cpu _cpu;
    private readonly GuestMemoryRead _read;
    private readonly ModuleRecognizer _modules;
    private readonly HashSet<ulong> _seenEntries = [];

    public LoadedImageProbe(Cpu cpu, GuestMemoryRead read, ModuleRecognizer modules)
    {
        _cpu = cpu;
        _read = read;
        _modules = modules;
        cpu.BlockDecoding += OnBlockDecoding;
    }

    /// <summary>Raised (CPU thread, before the image's first instruction) when an image outside the firmware's modules starts.</summary>
    public event Action<LoadedImage>? ImageStarted;

    /// <summary>Raised at <see cref="BeginBoot"/>: what was learnt from the last boot's images is void.</summary>
    public event Action? BootBegan;

    /// <summary>A machine reset: entries of the last boot may start again.</summary>
    public void BeginBoot()
    {
        _seenEntries.Clear();
        BootBegan?.Invoke();
    }

    /// <summary>
    /// The entry arguments the CPU holds now if they are an image's (ImageHandle points at an
    /// IHANDLE, SystemTable at "IBI SYST"): X64 in RCX and RDX, IA32 on the stack above the return address.
    /// </summary>
    public static bool TryReadEntryArguments(Cpu cpu, GuestMemoryRead read, out ulong imageHandle, out ulong systemTable, out int pointerSize)
    {
        imageHandle = systemTable = 0;
        pointerSize = cpu.Bitness == 64 ? 8 : 4;
        if (cpu.Bitness == 64)
        {
            imageHandle = cpu.GetGpr(Gpr.Rcx);
            systemTable = cpu.GetGpr(Gpr.Rdx);
        }
        else if (cpu.Bitness == 32)
        {
            // UEFI's flat 32-bit segments: the stack's linear address is ESP.
            ulong esp = cpu.GetGpr(Gpr.Rsp) & 0xFFFF_FFFF;
            if (!read.TryReadUnsigned(esp + 4, 4, out imageHandle) || !read.TryReadUnsigned(esp + 8, 4, out systemTable))
            {
                return false;
            }
        }
        else
        {
            return false;
        }

        return systemTable != 0 && read.TryReadUnsigned(systemTable, 8, out ulong signature) && signature == SystemTableSignature
            && DxeHandleDatabase.IsHandle(read, pointerSize, imageHandle);
    }

    /// <summary>
    /// What the handle database says about the image <paramref name="imageHandle"/> entered at
    /// <paramref name="entry"/>, or null when it is not a loaded image entered at its entry point.
    /// </summary>
    public static LoadedImage? Describe(GuestMemoryRead read, int pointerSize, ulong imageHandle, ulong systemTable, ulong entry)
    {
        // EFI_LOADED_IMAGE_PROTOCOL: Revision (UINT32, padded to N), ParentHandle @N, SystemTable @2N,
        // DeviceHandle @3N, FilePath @4N, Reserved @5N, LoadOptionsSize @6N, LoadOptions @7N, ImageBase @8N.
        ulong n = (ulong)pointerSize;
        if (DxeHandleDatabase.FindInterface(read, pointerSize, imageHandle, LoadedImageProtocol) is not { } loaded
            || !read.TryReadUnsigned(loaded + n, pointerSize, out ulong parent)
            || !read.TryReadUnsigned(loaded + (2 * n), pointerSize, out ulong table) || table != systemTable
            || !read.TryReadUnsigned(loaded + (3 * n), pointerSize, out ulong device)
            || !read.TryReadUnsigned(loaded + (4 * n), pointerSize, out ulong filePath)
            || !read.TryReadUnsigned(loaded + (8 * n), pointerSize, out ulong imageBase))
        {
            return null;
        }

        var header = new byte[HeaderWindow];
        if (!read(imageBase, header) || !PeImageInfo.TryParse(header, out var pe) || pe == null
            || pe.Format == PeImageFormat.Te || unchecked(imageBase + pe.AddressOfEntryPoint) != entry)
        {
            return null;
        }

        byte[]? path = ImagePath(read, pointerSize, imageHandle, device, filePath);
        return new LoadedImage(
            imageHandle, parent, device, imageBase, pe.SizeOfImage, pe.Machine, pe.Subsystem, entry, systemTable, pointerSize,
            path == null ? null : DevicePathText.Format(path),
            path != null && DevicePathText.IsFirmwareVolumeFile(path));
    }

    /// <summary>
    /// The image's device path: its device's path followed by its file path, which UEFI defines
    /// relative to DeviceHandle (spec 9.1) — also right for a second-stage image a loader starts on
    /// its own handle (shim points FilePath and ImageBase at GRUB but leaves the loaded-image
    /// device path its own) —; the loaded-image device path when the image has no device or its
    /// file path is not a media path (the image was loaded by a full path); else the file path alone.
    /// </summary>
    private static byte[]? ImagePath(GuestMemoryRead read, int pointerSize, ulong imageHandle, ulong device, ulong filePath)
    {
        const byte mediaType = 4;
        const int endNodeLength = 4;
        byte[]? file = filePath != 0 ? DevicePathText.Read(read, filePath) : null;
        byte[]? devicePath = device != 0 && DxeHandleDatabase.FindInterface(read, pointerSize, device, DevicePathProtocol) is { } d && d != 0
            ? DevicePathText.Read(read, d)
            : null;
        if (file != null && devicePath != null && file[0] == mediaType)
        {
            return [.. devicePath.AsSpan(0, devicePath.Length - endNodeLength), .. file];
        }

        return DxeHandleDatabase.FindInterface(read, pointerSize, imageHandle, LoadedImageDevicePathProtocol) is { } full && full != 0
            ? DevicePathText.Read(read, full) ?? file
            : file;
    }

    private void OnBlockDecoding(ulong linear)
    {
        // The cheap test first: most blocks are not entered with a system table in hand.
        if (!TryReadEntryArguments(_cpu, _read, out ulong handle, out ulong systemTable, out int pointerSize)
            || _seenEntries.Contains(linear) || _modules.ModuleAt(linear) != null)
        {
            return;
        }

        if (Describe(_read, pointerSize, handle, systemTable, linear) is { } image)
        {
            _seenEntries.Add(linear);
            ImageStarted?.Invoke(image);
        }
    }
}

/// <summary>
/// An image started outside the firmware's modules: its handle, its parent's (the image that
/// loaded it), its device's, where it was loaded and how large it is (SizeOfImage), its PE
/// machine and subsystem (10: an EFI application), its entry point, the system table it was
/// given and the firmware's pointer size (8 X64, 4 IA32), its device path as text (null when
/// unreadable), and whether that path is a firmware-volume file.
/// </summary>
public sealed record LoadedImage(
    ulong Handle, ulong ParentHandle, ulong DeviceHandle, ulong ImageBase, uint SizeOfImage, PeMachine Machine, ushort Subsystem, ulong Entry,
    ulong SystemTable, int PointerSize, string? DevicePath, bool FromFirmwareVolume);
