namespace Emulator.Hosting.Serial;

/// <summary>Where a serial port's bytes go and come from (QEMU's character backends that emu offers).</summary>
public enum SerialBackendKind
{
    /// <summary>The process's stdout and stdin (QEMU's <c>stdio</c>): the console session.</summary>
    Console,

    /// <summary>Output written to a file, created or truncated (QEMU's <c>file</c>); no input.</summary>
    File,

    /// <summary>Output discarded, no input (QEMU's <c>null</c>, or a device without a chardev).</summary>
    Null,

    /// <summary>A new pseudo-terminal, its name printed on stderr (QEMU's <c>pty</c>).</summary>
    Pty,
}

/// <summary>A backend: its kind, the file for <see cref="SerialBackendKind.File"/>, QEMU's append=on, and a pty's label (its chardev id).</summary>
public sealed record SerialBackend(SerialBackendKind Kind, string? Path = null, bool Append = false, string? Label = null)
{
    /// <summary>The console: the session's output stream and input.</summary>
    public static readonly SerialBackend Console = new(SerialBackendKind.Console);
    /// <summary>Output discarded, no input.</summary>
    public static readonly SerialBackend Null = new(SerialBackendKind.Null);
}

/// <summary>One ISA serial port: its index (0 = COM1) and its backend.</summary>
public sealed record SerialPortSpec(int Index, SerialBackend Backend);
