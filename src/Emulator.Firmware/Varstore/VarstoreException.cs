namespace Emulator.Firmware.Varstore;

/// <summary>A varstore operation that cannot be done on these bytes (store invalid or full, variable missing …); the message is one line.</summary>
public sealed class VarstoreException(string message) : Exception(message);
