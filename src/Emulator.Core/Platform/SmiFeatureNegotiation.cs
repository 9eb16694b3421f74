using System.Buffers.Binary;
using Emulator.Core.Devices;

namespace Emulator.Core.Platform;

/// <summary>
/// The SMI feature negotiation QEMU's ICH9 LPC bridge offers through fw_cfg (hw/isa/lpc_ich9.c
/// ich9_lpc_realize, smi_features_ok_callback, ich9_lpc_reset; docs/fw-cfg.md "q35"):
/// <c>etc/smi/supported-features</c> (8 bytes, little-endian, read-only),
/// <c>etc/smi/requested-features</c> (8 bytes the guest writes by fw_cfg DMA) and
/// <c>etc/smi/features-ok</c> (1 byte). Selecting features-ok validates the request — a subset
/// of the supported bits, CPU hot-(un)plug only with broadcast, unplug only with plug — and on
/// success stores 1 and locks the negotiated set until reset; an invalid request leaves it 0 and
/// the guest may try again. OVMF's SmmControl2Dxe (OvmfPkg/SmmControl2Dxe/SmiFeatures.c) asks for
/// broadcast and the hotplug bits it can use. A machine reset clears the request and the lock.
/// </summary>
public sealed class SmiFeatureNegotiation : IDevice
{
    public const string SupportedFile = "etc/smi/supported-features";
    public const string RequestedFile = "etc/smi/requested-features";
    public const string FeaturesOkFile = "etc/smi/features-ok";

    /// <summary>ICH9_LPC_SMI_F_BROADCAST_BIT: an APM SMI goes to every CPU.</summary>
    public const ulong Broadcast = 1UL << 0;

    /// <summary>ICH9_LPC_SMI_F_CPU_HOTPLUG_BIT: SMIs on CPU hotplug.</summary>
    public const ulong CpuHotplug = 1UL << 1;

    /// <summary>ICH9_LPC_SMI_F_CPU_HOT_UNPLUG_BIT: SMIs on CPU hot-unplug.</summary>
    public const ulong CpuHotUnplug = 1UL << 2;

    /// <summary>
    /// What QEMU 7.2's ICH9-LPC offers by default: x-smi-broadcast, x-smi-cpu-hotplug and
    /// x-smi-cpu-hotunplug are all on for pc-q35-7.2 (measured: the file reads 07 00 … 00).
    /// </summary>
    public const ulong QemuDefaultSupported = Broadcast | CpuHotplug | CpuHotUnplug;

    /// <param name="supported">The features offered; fixed for the machine's life.</param>
    public SmiFeatureNegotiation(ulong supported = QemuDefaultSupported)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Supported, supported);
    }

    public string Name => "ich9-smi-features";

    /// <summary>The <c>etc/smi/supported-features</c> bytes.</summary>
    public byte[] Supported { get; } = new byte[sizeof(ulong)];

    /// <summary>The <c>etc/smi/requested-features</c> bytes (the array fw_cfg DMA writes into).</summary>
    public byte[] Requested { get; } = new byte[sizeof(ulong)];

    /// <summary>The <c>etc/smi/features-ok</c> byte: 1 once a valid request was locked in.</summary>
    public byte[] FeaturesOk { get; } = new byte[1];

    /// <summary>The locked-in features (0 until the negotiation succeeded): what SMI delivery honours.</summary>
    public ulong Negotiated { get; private set; }

    /// <summary>QEMU smi_features_ok_callback: the select hook of <c>etc/smi/features-ok</c>.</summary>
    public void FeaturesOkSelected()
    {
        if (FeaturesOk[0] != 0)
        {
            return;     // negotiation already complete, features locked
        }

        ulong requested = BinaryPrimitives.ReadUInt64LittleEndian(Requested);
        ulong hotplug = requested & (CpuHotplug | CpuHotUnplug);
        bool valid = (requested & ~BinaryPrimitives.ReadUInt64LittleEndian(Supported)) == 0
            && (hotplug == 0 || (requested & Broadcast) != 0)
            && hotplug != CpuHotUnplug;
        if (valid)
        {
            Negotiated = requested;
            FeaturesOk[0] = 1;
        }
    }

    /// <summary>QEMU ich9_lpc_reset: the request, the result and the negotiated set are cleared.</summary>
    public void Reset()
    {
        Array.Clear(Requested);
        FeaturesOk[0] = 0;
        Negotiated = 0;
    }

    public DeviceState SaveState() => new SmiFeatureNegotiationState([.. Requested], FeaturesOk[0], Negotiated);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<SmiFeatureNegotiationState>(state, this);
        if (s.Requested.Length != Requested.Length)
        {
            throw new ArgumentException($"the saved requested-features has {s.Requested.Length} bytes, not {Requested.Length}", nameof(state));
        }

        s.Requested.CopyTo(Requested, 0);
        FeaturesOk[0] = s.FeaturesOk;
        Negotiated = s.Negotiated;
    }
}

/// <summary>The requested-features bytes, the features-ok byte and the negotiated set (QEMU vmstate "ICH9LPC/smi_feat").</summary>
public sealed record SmiFeatureNegotiationState(byte[] Requested, byte FeaturesOk, ulong Negotiated) : DeviceState;
