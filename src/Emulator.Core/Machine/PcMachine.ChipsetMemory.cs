using Emulator.Core.Devices.Pci;
using Emulator.Core.Devices.Q35;
using Emulator.Core.Memory;

namespace Emulator.Core.Machine;

/// <summary>
/// What the host bridge's registers do to memory, with the bus's overlays (docs/q35.md):
/// PAM on both boards (QEMU hw/pci-host/pam.c init_pam/pam_update: attribute 0 leaves what the
/// base map has — the ISA BIOS copy or nothing —, 1 shows RAM read-only, 2 and 3 RAM
/// read-write, in both views), and on Q35 the SMRAM decoding of QEMU's mch_update_smram and
/// mch_update_smbase_smram: 0xA0000–0xBFFFF as RAM in the normal view while D_OPEN is set and
/// H_SMRAME clear and in the SMM view while G_SMRAME is set and H_SMRAME clear; the same RAM at
/// 0xFEDA0000 with H_SMRAME instead; TSEG (the top of low RAM, QEMU's below_4g_mem_size, not
/// TOLUD) reading all-ones in the normal view while T_EN and G_SMRAME are set; 0x30000–0x4FFFF
/// likewise once SMBASE control is locked. The SMM view shows RAM at TSEG and SMBASE: the base map.
/// </summary>
public sealed unsafe partial class PcMachine
{
    private readonly List<(PamSegment Segment, MemoryRegion ReadOnly, MemoryRegion ReadWrite)> _pamOverlays = [];
    private readonly Dictionary<uint, MemoryRegion> _tsegBlackholes = [];
    private Func<PamSegment, PamAccess> _pamAccess = null!;
    private MemoryRegion _smramOpenLow = null!;
    private MemoryRegion _smramLow = null!;
    private MemoryRegion _smramOpenHigh = null!;
    private MemoryRegion _smramHigh = null!;
    private MemoryRegion _smbaseBlackhole = null!;
    private MemoryRegion? _tsegBlackhole;

    /// <summary>Two RAM overlays per PAM segment (read-only, read-write), off until a PAM register turns one on.</summary>
    private void WirePam(Func<PamSegment, PamAccess> access)
    {
        _pamAccess = access;
        foreach (var segment in PamSegment.All)
        {
            byte* host = RamHost(segment.Start);
            _pamOverlays.Add((
                segment,
                Bus.MapRamOverlay($"pam-rom-{segment.Start:x}", segment.Start, segment.Size, host, MemoryView.Both, readOnly: true),
                Bus.MapRamOverlay($"pam-ram-{segment.Start:x}", segment.Start, segment.Size, host, MemoryView.Both)));
        }
    }

    /// <summary>pam_update for the segments of PAM register <paramref name="register"/>.</summary>
    private void UpdatePam(int register)
    {
        foreach (var (segment, readOnly, readWrite) in _pamOverlays)
        {
            if (segment.Register == register)
            {
                var access = _pamAccess(segment);
                Bus.SetEnabled(readOnly, access == PamAccess.ReadDram);
                Bus.SetEnabled(readWrite, (access & PamAccess.WriteDram) != 0);
            }
        }
    }

    private void WireSmram()
    {
        byte* low = RamHost(MchHostBridge.LowSmramStart);
        _smramOpenLow = Bus.MapRamOverlay("smram-open-low", MchHostBridge.LowSmramStart, MchHostBridge.LowSmramSize, low, MemoryView.Normal);
        _smramLow = Bus.MapRamOverlay("smram-low", MchHostBridge.LowSmramStart, MchHostBridge.LowSmramSize, low, MemoryView.Smm);
        _smramOpenHigh = Bus.MapRamOverlay("smram-open-high", MchHostBridge.HighSmramStart, MchHostBridge.LowSmramSize, low, MemoryView.Normal);
        _smramHigh = Bus.MapRamOverlay("smram-high", MchHostBridge.HighSmramStart, MchHostBridge.LowSmramSize, low, MemoryView.Smm);
        _smbaseBlackhole = Bus.MapMmioOverlay("smbase-blackhole", MchHostBridge.SmbaseWindowStart, MchHostBridge.SmbaseWindowSize, PhysicalBus.Blackhole, MemoryView.Normal);
        Mch.SmramChanged += UpdateSmram;
    }

    /// <summary>mch_update_smram and mch_update_smbase_smram's effect on the two views.</summary>
    private void UpdateSmram()
    {
        byte smram = Mch.Smram;
        bool open = (smram & MchHostBridge.SmramOpen) != 0;
        bool global = (smram & MchHostBridge.SmramGlobalEnable) != 0;
        bool high = (Mch.Esmramc & MchHostBridge.EsmramcHighEnable) != 0;
        Bus.SetEnabled(_smramOpenLow, open && !high);
        Bus.SetEnabled(_smramOpenHigh, open && high);
        Bus.SetEnabled(_smramLow, global && !high);
        Bus.SetEnabled(_smramHigh, global && high);
        Bus.SetEnabled(_smbaseBlackhole, Mch.SmbaseLocked);

        uint tseg = Mch.TsegSize;
        var blackhole = tseg == 0 || tseg > LowRamSize ? null : TsegBlackhole(tseg);
        if (_tsegBlackhole != null && _tsegBlackhole != blackhole)
        {
            Bus.SetEnabled(_tsegBlackhole, false);
        }

        if (blackhole != null)
        {
            Bus.SetEnabled(blackhole, true);
        }

        _tsegBlackhole = blackhole;
    }

    /// <summary>The normal-view blackhole over the top <paramref name="size"/> bytes of low RAM (one overlay per TSEG size used).</summary>
    private MemoryRegion TsegBlackhole(uint size)
    {
        if (!_tsegBlackholes.TryGetValue(size, out var overlay))
        {
            overlay = Bus.MapMmioOverlay($"tseg-blackhole-{size >> 20}m", LowRamSize - size, size, PhysicalBus.Blackhole, MemoryView.Normal);
            _tsegBlackholes[size] = overlay;
        }

        return overlay;
    }
}
