namespace Emulator.Core.Devices.CfiFlash;

/// <summary>What a completed flash operation did to the array.</summary>
public enum FlashWriteKind : byte
{
    /// <summary>A single program (0x10/0x40 + data) or a committed write-to-buffer (0xE8 ... 0xD0).</summary>
    Program,

    /// <summary>A block erase (0x20): one 4 KiB sector set to 0xFF.</summary>
    Erase,
}

/// <summary>
/// Told after every completed program or erase, on the CPU thread, once the array holds the new
/// bytes. Persistence (the varstore file) and the flash write log listen here; the device model
/// itself knows nothing of files. Keep it cheap: it runs inside the guest's write instruction.
/// </summary>
public interface IFlashWriteListener
{
    void Written(CfiFlash chip, FlashWriteKind kind, ulong offset, int length);
}

/// <summary>Fans one chip's notifications out to several listeners, in the order they were added.</summary>
public sealed class FlashWriteListeners : IFlashWriteListener
{
    private readonly IFlashWriteListener[] _listeners;

    private FlashWriteListeners(IFlashWriteListener[] listeners) => _listeners = listeners;

    /// <summary>Adds <paramref name="added"/> after whatever <paramref name="existing"/> already notifies.</summary>
    public static IFlashWriteListener Combine(IFlashWriteListener? existing, IFlashWriteListener added) => existing switch
    {
        null => added,
        FlashWriteListeners many => new FlashWriteListeners([.. many._listeners, added]),
        _ => new FlashWriteListeners([existing, added]),
    };

    public void Written(CfiFlash chip, FlashWriteKind kind, ulong offset, int length)
    {
        foreach (var l in _listeners)
        {
            l.Written(chip, kind, offset, length);
        }
    }
}
