namespace Emulator.Core.Machine;

/// <summary>The machine cannot be built as asked (e.g. a user-placed device's ports are taken by another device): the front end's one-line error.</summary>
public sealed class MachineConfigurationException(string message) : Exception(message);
