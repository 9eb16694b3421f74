namespace Emulator.Core.Devices.LocalApic;

/// <summary>
/// An interrupt message as an I/O APIC sends it to the local APICs (Intel 82093AA datasheet
/// §3.2.4; QEMU turns it into an MSI write, whose fields are these): the 8-bit destination,
/// physical or logical destination mode, delivery mode, vector and trigger mode.
/// </summary>
public readonly record struct InterruptMessage(byte Destination, bool LogicalDestination, ApicDeliveryMode DeliveryMode, byte Vector, bool LevelTriggered);
