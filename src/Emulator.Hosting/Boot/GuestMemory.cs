using System.Buffers.Binary;
using Emulator.Core.Memory;

namespace Emulator.Hosting.Boot;

/// <summary>
/// Reads <paramref name="destination"/>.Length bytes of guest memory at <paramref name="address"/>;
/// false when any of them is not plain memory (the probes never touch a device).
/// </summary>
internal delegate bool GuestMemoryRead(ulong address, Span<byte> destination);

/// <summary>
/// Reads of guest memory for the probes that look at the firmware's own data structures (the DXE
/// handle database, loaded images, device paths): only memory the bus maps directly (RAM, ROM),
/// inside one region, so reading has no effect on devices or on the unassigned-access log, and a
/// wild pointer just fails the read.
/// </summary>
internal static unsafe class GuestMemory
{
    /// <summary>Reads through <paramref name="bus"/>'s current view. Firmware runs identity-mapped, so a linear address is the physical one.</summary>
    public static GuestMemoryRead Of(PhysicalBus bus) => (address, destination) =>
    {
        var region = bus.Find(address);
        byte* p = bus.ReadPointer(address);
        if (p == null || region.End - address < (ulong)destination.Length)
        {
            return false;
        }

        new ReadOnlySpan<byte>(p, destination.Length).CopyTo(destination);
        return true;
    };

    /// <summary>An unsigned little-endian value of <paramref name="size"/> bytes (4 or 8: a UINTN or pointer of a 32- or 64-bit firmware).</summary>
    public static bool TryReadUnsigned(this GuestMemoryRead read, ulong address, int size, out ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        value = 0;
        if (!read(address, bytes[..size]))
        {
            return false;
        }

        value = size == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        return true;
    }

    /// <summary>A 16-byte EFI_GUID (its memory layout is .NET's <see cref="Guid"/> byte order).</summary>
    public static bool TryReadGuid(this GuestMemoryRead read, ulong address, out Guid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        value = default;
        if (!read(address, bytes))
        {
            return false;
        }

        value = new Guid(bytes);
        return true;
    }
}
