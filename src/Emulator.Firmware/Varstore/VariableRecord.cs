namespace Emulator.Firmware.Varstore;

/// <summary>
/// One record of a variable store: VARIABLE_HEADER or AUTHENTICATED_VARIABLE_HEADER
/// (VariableFormat.h), then the UCS-2 name with its NUL, then the data; the next record starts at
/// the next 4-byte boundary (HEADER_ALIGN).
/// </summary>
public sealed class VariableRecord
{
    internal VariableRecord()
    {
    }

    /// <summary>Offset of the record header in the varstore image.</summary>
    public int Offset { get; internal init; }

    /// <summary>60 for authenticated stores, 32 for plain ones.</summary>
    public int HeaderSize { get; internal init; }

    public byte State { get; internal init; }

    public VariableAttributes Attributes { get; internal init; }

    /// <summary>Authenticated stores only: MonotonicCount, TimeStamp (EFI_TIME, 16 bytes) and PubKeyIndex.</summary>
    public ulong MonotonicCount { get; internal init; }

    public ReadOnlyMemory<byte> TimeStamp { get; internal init; }

    public uint PubKeyIndex { get; internal init; }

    public int NameSize { get; internal init; }

    public int DataSize { get; internal init; }

    public Guid VendorGuid { get; internal init; }

    /// <summary>The name without its terminating NUL (all of NameSize when it has none).</summary>
    public string Name { get; internal init; } = string.Empty;

    /// <summary>False when the NameSize bytes hold no NUL character.</summary>
    public bool NameTerminated { get; internal init; } = true;

    public ReadOnlyMemory<byte> Data { get; internal init; }

    /// <summary>Bytes from this header to the next one (HEADER_ALIGN of the data end).</summary>
    public int AlignedLength { get; internal init; }

    /// <summary>
    /// True for the copy the firmware returns from GetVariable: VAR_ADDED, or VAR_ADDED in deleted
    /// transition when no VAR_ADDED copy of the same variable exists (Variable.c FindVariableEx).
    /// </summary>
    public bool IsLive { get; internal set; }

    public string StateName => VariableState.Describe(State);

    public override string ToString() => $"{Name} {VendorGuid} {StateName} {DataSize} bytes at 0x{Offset:X}";
}
