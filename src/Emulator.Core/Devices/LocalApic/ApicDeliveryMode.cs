namespace Emulator.Core.Devices.LocalApic;

/// <summary>
/// Delivery modes of an APIC-bus interrupt message (Intel SDM Vol. 3A §11.6.1, the ICR and I/O
/// APIC redirection-entry field of bits 8–10; the same encoding as QEMU's APIC_DM_*).
/// </summary>
public enum ApicDeliveryMode
{
    Fixed = 0,
    LowestPriority = 1,
    Smi = 2,
    Nmi = 4,
    Init = 5,
    StartUp = 6,
    ExtInt = 7,
}
