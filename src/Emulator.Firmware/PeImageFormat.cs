namespace Emulator.Firmware;

/// <summary>Executable header flavour of a firmware module.</summary>
public enum PeImageFormat
{
    /// <summary>PE/COFF with a PE32 optional header (magic 0x10B).</summary>
    Pe32,

    /// <summary>PE/COFF with a PE32+ optional header (magic 0x20B).</summary>
    Pe32Plus,

    /// <summary>Terse Executable (PI spec Vol 1, "TE image"): a PE with its headers stripped.</summary>
    Te,
}
