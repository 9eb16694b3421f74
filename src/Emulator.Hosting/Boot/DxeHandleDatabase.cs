namespace Emulator.Hosting.Boot;

/// <summary>
/// Reads the edk2 DXE core's handle database the way CoreFindProtocolInterface walks it
/// (MdeModulePkg/Core/Dxe/Hand/Handle.h, Handle.c): an EFI_HANDLE is a pointer to an IHANDLE
/// (signature 'hndl'), whose Protocols list links the PROTOCOL_INTERFACEs installed on it
/// (signature 'pifc', each pointing back at its handle and at its PROTOCOL_ENTRY, signature
/// 'prte', which holds the protocol's GUID). With N the size of a UINTN and of a pointer (8 on
/// X64, 4 on IA32), a LIST_ENTRY is two pointers (Flink, Blink) and:
/// <code>
/// IHANDLE            Signature @0, AllHandles @N, Protocols @3N
/// PROTOCOL_INTERFACE Signature @0, Link @N, Handle @3N, ByProtocol @4N, Protocol @6N, Interface @7N
/// PROTOCOL_ENTRY     Signature @0, AllEntries @N, ProtocolID @3N
/// </code>
/// Guest memory is the guest's: every structure is checked by its signature, the back pointer
/// must lead to the handle, the walk stops after <see cref="MaxProtocolsPerHandle"/> links, and
/// an unreadable pointer ends it, so a garbled or hostile database answers "not found" and
/// never loops.
/// </summary>
internal static class DxeHandleDatabase
{
    /// <summary>The most protocol interfaces read on one handle (OVMF's busiest handles carry about a dozen).</summary>
    public const int MaxProtocolsPerHandle = 64;

    // SIGNATURE_32 values in a UINTN (the upper half of an X64 UINTN is zero).
    private const ulong HandleSignature = 'h' | ('n' << 8) | ('d' << 16) | ((ulong)'l' << 24);
    private const ulong InterfaceSignature = 'p' | ('i' << 8) | ('f' << 16) | ((ulong)'c' << 24);
    private const ulong ProtocolEntrySignature = 'p' | ('r' << 8) | ('t' << 16) | ((ulong)'e' << 24);

    /// <summary>Whether <paramref name="handle"/> points at an IHANDLE (edk2 CoreValidateHandle checks the same signature).</summary>
    public static bool IsHandle(GuestMemoryRead read, int pointerSize, ulong handle) =>
        handle != 0 && read.TryReadUnsigned(handle, pointerSize, out ulong signature) && signature == HandleSignature;

    /// <summary>The interface of <paramref name="protocol"/> installed on <paramref name="handle"/>, or null (not a handle, not installed, or a garbled list).</summary>
    public static ulong? FindInterface(GuestMemoryRead read, int pointerSize, ulong handle, Guid protocol)
    {
        ulong n = (ulong)pointerSize;
        if (!IsHandle(read, pointerSize, handle) || !read.TryReadUnsigned(handle + (3 * n), pointerSize, out ulong link))
        {
            return null;
        }

        ulong head = handle + (3 * n);
        for (int i = 0; i < MaxProtocolsPerHandle && link != head; i++)
        {
            ulong entry = unchecked(link - n);
            if (!read.TryReadUnsigned(entry, pointerSize, out ulong signature) || signature != InterfaceSignature
                || !read.TryReadUnsigned(entry + (3 * n), pointerSize, out ulong owner) || owner != handle
                || !read.TryReadUnsigned(entry + (6 * n), pointerSize, out ulong protocolEntry)
                || !TryReadProtocolId(read, pointerSize, protocolEntry, out Guid id))
            {
                return null;
            }

            if (id == protocol)
            {
                return read.TryReadUnsigned(entry + (7 * n), pointerSize, out ulong face) ? face : null;
            }

            if (!read.TryReadUnsigned(link, pointerSize, out link))
            {
                return null;
            }
        }

        return null;
    }

    private static bool TryReadProtocolId(GuestMemoryRead read, int pointerSize, ulong protocolEntry, out Guid id)
    {
        id = default;
        return read.TryReadUnsigned(protocolEntry, pointerSize, out ulong signature) && signature == ProtocolEntrySignature
            && read.TryReadGuid(protocolEntry + (3 * (ulong)pointerSize), out id);
    }
}
