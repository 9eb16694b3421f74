using Emulator.Core.Cpu;
using Emulator.Core.Memory;

namespace Emulator.Hosting.Gdb;

/// <summary>
/// Guest memory as gdb reads and writes it: by linear address through the guest's paging (a walk
/// that sets no accessed or dirty bits and raises nothing), and only where the bus maps plain
/// memory, or where a device shows memory without effect (a flash chip's array in any command
/// state). A read of an MMIO register could change the device (a FIFO, a status bit), so such
/// addresses, unmapped ones and pages not present answer with an error instead. Writes go to RAM
/// only (the flash chips are the user's varstore and code: never written behind their command
/// state machine), and drop the decoded blocks of what they overwrote.
/// </summary>
internal static unsafe class GdbMemory
{
    /// <summary>The largest <c>m</c> reply, in bytes (twice that in hex: within the packet size).</summary>
    public const int MaxRead = (GdbFraming.MaxPayload / 2) - 16;

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="linear"/>: all of them, or as many as could be read before the first that cannot (null when not even one).</summary>
    public static byte[]? Read(Cpu cpu, ulong linear, int length)
    {
        var bytes = new byte[Math.Min(length, MaxRead)];
        int done = 0;
        while (done < bytes.Length)
        {
            ulong at = linear + (ulong)done;
            byte* p = HostPointer(cpu, at, write: false, out int available, out _);
            if (p != null)
            {
                int n = Math.Min(available, bytes.Length - done);
                new ReadOnlySpan<byte>(p, n).CopyTo(bytes.AsSpan(done));
                done += n;
            }
            else if (ReadFromDevice(cpu, at, bytes.AsSpan(done, Math.Min(bytes.Length - done, (int)(PhysicalBus.PageSize - (at & (PhysicalBus.PageSize - 1)))))) is int n and > 0)
            {
                done += n;
            }
            else
            {
                break;
            }
        }

        return done == 0 && bytes.Length > 0 ? null : bytes[..done];
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="linear"/>; false (nothing written) unless every byte is RAM.</summary>
    public static bool Write(Cpu cpu, ulong linear, ReadOnlySpan<byte> data)
    {
        for (int done = 0; done < data.Length;)
        {
            if (HostPointer(cpu, linear + (ulong)done, write: true, out int available, out _) == null)
            {
                return false;
            }

            done += available;
        }

        for (int done = 0; done < data.Length;)
        {
            ulong at = linear + (ulong)done;
            byte* p = HostPointer(cpu, at, write: true, out int available, out ulong phys);
            int n = Math.Min(available, data.Length - done);
            data.Slice(done, n).CopyTo(new Span<byte>(p, n));
            cpu.Bus.NotifyWritten(phys, (ulong)n);
            done += n;
        }

        return true;
    }

    /// <summary>
    /// Bytes a device lets a debugger see without effect (a flash chip in command mode shows its
    /// array, as it will read once back in array mode); how many, 0 when it does not.
    /// </summary>
    private static int ReadFromDevice(Cpu cpu, ulong linear, Span<byte> destination)
    {
        ulong phys = cpu.TranslateForDebugger(linear, out bool ok);
        var region = ok ? cpu.Bus.Find(phys) : null;
        if (region?.Device is not { } device)
        {
            return 0;
        }

        var part = destination[..(int)Math.Min((ulong)destination.Length, region.End - phys)];
        return device.TryReadForDebugger(phys - region.Start, part) ? part.Length : 0;
    }

    /// <summary>The host address of <paramref name="linear"/>'s byte and how many follow it in the same page and region; null where gdb may not go.</summary>
    private static byte* HostPointer(Cpu cpu, ulong linear, bool write, out int available, out ulong phys)
    {
        available = 0;
        phys = cpu.TranslateForDebugger(linear, out bool ok);
        if (!ok)
        {
            return null;
        }

        var bus = cpu.Bus;
        var region = bus.Find(phys);
        // RAM's host bytes are the same for reading and writing; WritePointer would refuse pages
        // holding decoded code, which a write here may change (NotifyWritten drops their blocks).
        byte* p = write && region.Kind != RegionKind.Ram ? null : bus.ReadPointer(phys);
        if (p == null)
        {
            return null;
        }

        ulong toPage = PhysicalBus.PageSize - (linear & (PhysicalBus.PageSize - 1));
        available = (int)Math.Min(toPage, region.End - phys);
        return p;
    }
}
