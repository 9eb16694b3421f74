namespace Emulator.Core.Cpu;

/// <summary>
/// The CPUID answers and model facts the guest sees. <see cref="Qemu64"/> reproduces QEMU 7.2's
/// default "qemu64" CPU under TCG exactly (measured in a guest; docs/qemu64-cpuid.md),
/// so our execution is comparable instruction by instruction with a QEMU run.
/// </summary>
public sealed class CpuModel
{
    private readonly Dictionary<(uint Leaf, uint Subleaf), (uint Eax, uint Ebx, uint Ecx, uint Edx)> _leaves;

    private CpuModel(string name, Dictionary<(uint, uint), (uint, uint, uint, uint)> leaves, uint maxBasic, uint maxExtended)
    {
        Name = name;
        _leaves = leaves;
        MaxBasicLeaf = maxBasic;
        MaxExtendedLeaf = maxExtended;
    }

    public string Name { get; }

    public uint MaxBasicLeaf { get; }

    public uint MaxExtendedLeaf { get; }

    /// <summary>EDX at reset: the family/model/stepping signature, CPUID.1.EAX (SDM 9.1.4).</summary>
    public uint ResetEdx => Query(1, 0).Eax;

    /// <summary>MAXPHYADDR from CPUID.80000008H:EAX[7:0].</summary>
    public int PhysicalAddressBits => (int)(Query(0x80000008, 0).Eax & 0xFF);

    /// <summary>The vendor string of CPUID leaf 0 is "AuthenticAMD" (EBX "Auth", EDX "enti", ECX "cAMD").</summary>
    public bool IsAmd => Query(0, 0) is { Ebx: 0x68747541, Edx: 0x69746e65, Ecx: 0x444d4163 };

    /// <summary>1 GiB pages only where CPUID.80000001H:EDX[26] advertises them.</summary>
    public bool Supports1GPages => (Query(0x80000001, 0).Edx & (1u << 26)) != 0;

    public static CpuModel Qemu64 { get; } = new(
        "qemu64",
        new()
        {
            [(0x00000000, 0)] = (0x0000000d, 0x68747541, 0x444d4163, 0x69746e65),
            [(0x00000001, 0)] = (0x00060fb1, 0x00000800, 0x80002001, 0x078bfbfd),
            [(0x00000005, 0)] = (0, 0, 0x00000003, 0),
            [(0x0000000B, 0)] = (0, 0x00000001, 0x00000100, 0),
            [(0x0000000B, 1)] = (0, 0x00000001, 0x00000201, 0),
            [(0x0000000B, 2)] = (0, 0, 0x00000002, 0),
            [(0x40000000, 0)] = (0x40000001, 0x54474354, 0x43544743, 0x47435447),
            [(0x80000000, 0)] = (0x8000000a, 0x68747541, 0x444d4163, 0x69746e65),
            [(0x80000001, 0)] = (0x00060fb1, 0, 0x00000005, 0x2193fbfd),
            [(0x80000002, 0)] = (0x554d4551, 0x72695620, 0x6c617574, 0x55504320),
            [(0x80000003, 0)] = (0x72657620, 0x6e6f6973, 0x352e3220, 0x0000002b),
            [(0x80000005, 0)] = (0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140),
            [(0x80000006, 0)] = (0, 0x42004200, 0x02008140, 0x00808140),
            [(0x80000008, 0)] = (0x00003028, 0, 0, 0),
            [(0x8000000A, 0)] = (0x00000001, 0x00000010, 0, 0),
        },
        0x0000000d,
        0x8000000a);

    /// <summary>
    /// CPUID. Leaf 0xB depends on ECX; every other listed leaf ignores it. Unlisted leaves inside
    /// the valid ranges read as zero; the hypervisor range answers up to 0x40000010 (QEMU's TCG
    /// signature leaf); above the maximum, Intel returns the highest basic leaf, but qemu64 is an
    /// "AuthenticAMD" model and QEMU returns zeros there, which is what we do.
    /// </summary>
    public (uint Eax, uint Ebx, uint Ecx, uint Edx) Query(uint leaf, uint subleaf)
    {
        uint sub = leaf == 0x0000000B ? subleaf : 0;
        if (leaf == 0x0000000B && subleaf > 2)
        {
            return (0, 0, subleaf & 0xFF, 0);
        }

        return _leaves.TryGetValue((leaf, sub), out var v) ? v : (0, 0, 0, 0);
    }
}
