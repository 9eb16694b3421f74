namespace Emulator.Core.Cpu;

/// <summary>
/// The CPUID answers and model facts the guest sees. <see cref="Qemu64"/> reproduces QEMU 7.2's
/// default "qemu64" CPU under TCG exactly (measured in a guest; docs/qemu64-cpuid.md), and
/// <see cref="Qemu32"/> qemu-system-i386's default "qemu32" (measured the same way; the same
/// document), so our execution is comparable instruction by instruction with a QEMU run.
/// </summary>
public sealed class CpuModel
{
    // A plain array of our own struct, scanned: a Dictionary keyed by tuples is a framework generic
    // over value types, which ReadyToRun cannot precompile, so building it cost ~20 ms of JIT at
    // every process start (before the first instruction); a dozen entries need no hashing.
    private readonly CpuidLeaf[] _leaves;

    private readonly record struct CpuidLeaf(uint Leaf, uint Subleaf, uint Eax, uint Ebx, uint Ecx, uint Edx);

    /// <summary>The top of the hypervisor range under TCG (QEMU target/i386/cpu.c cpu_x86_cpuid: limit 0x40000001).</summary>
    private const uint MaxHypervisorLeaf = 0x40000001;

    /// <summary>The leaf whose answer depends on ECX (0xB topology on qemu64, 4 cache levels on qemu32); every other ignores it.</summary>
    private readonly uint _subleafLeaf;

    private CpuModel(string name, CpuidLeaf[] leaves, uint maxBasic, uint maxExtended, uint subleafLeaf, int physicalAddressBits)
    {
        Name = name;
        _leaves = leaves;
        MaxBasicLeaf = maxBasic;
        MaxExtendedLeaf = maxExtended;
        _subleafLeaf = subleafLeaf;
        PhysicalAddressBits = physicalAddressBits;
    }

    /// <summary>The models by QEMU's <c>-cpu</c> name.</summary>
    public static IReadOnlyList<CpuModel> All => [Qemu64, Qemu32];

    public string Name { get; }

    public uint MaxBasicLeaf { get; }

    public uint MaxExtendedLeaf { get; }

    /// <summary>EDX at reset: the family/model/stepping signature, CPUID.1.EAX (SDM 9.1.4).</summary>
    public uint ResetEdx => Query(1, 0).Eax;

    /// <summary>
    /// MAXPHYADDR: CPUID.80000008H:EAX[7:0] where the model has the leaf (qemu64: 40). qemu32 has
    /// none: QEMU's x86_cpu_realizefn gives a CPU without long mode 36 bits with PSE36, else 32.
    /// </summary>
    public int PhysicalAddressBits { get; }

    /// <summary>Long mode (CPUID.80000001H:EDX[29]): without it EFER.LME cannot be set.</summary>
    public bool LongMode => (Query(0x80000001, 0).Edx & (1u << 29)) != 0;

    /// <summary>
    /// The EFER bits a WRMSR changes (QEMU helper_wrmsr, MSR_EFER: SCE with SYSCALL, LME with LM,
    /// NXE with NX in CPUID.80000001H:EDX, SVME with SVM in CPUID.80000001H:ECX); other bits of the
    /// written value are ignored.
    /// </summary>
    public ulong EferWritable
    {
        get
        {
            var (_, _, ecx, edx) = Query(0x80000001, 0);
            return ((edx & (1u << 11)) != 0 ? CrBits.EferSce : 0) | ((edx & (1u << 29)) != 0 ? CrBits.EferLme : 0) | ((edx & (1u << 20)) != 0 ? CrBits.EferNxe : 0) |
                (HasSvm(ecx) ? CrBits.EferSvme : 0);
        }
    }

    /// <summary>The vendor string of CPUID leaf 0 is "AuthenticAMD" (EBX "Auth", EDX "enti", ECX "cAMD").</summary>
    public bool IsAmd => Query(0, 0) is { Ebx: 0x68747541, Edx: 0x69746e65, Ecx: 0x444d4163 };

    /// <summary>SVM (CPUID.80000001H:ECX[2]): EFER.SVME writable, the SVM instructions past their #UD.</summary>
    public bool Svm => HasSvm(Query(0x80000001, 0).Ecx);

    private static bool HasSvm(uint ecx) => (ecx & (1u << 2)) != 0;

    /// <summary>1 GiB pages only where CPUID.80000001H:EDX[26] advertises them.</summary>
    public bool Supports1GPages => (Query(0x80000001, 0).Edx & (1u << 26)) != 0;

    public static CpuModel Qemu64 { get; } = new(
        "qemu64",
        [
            new(0x00000000, 0, 0x0000000d, 0x68747541, 0x444d4163, 0x69746e65),
            new(0x00000001, 0, 0x00060fb1, 0x00000800, 0x80002001, 0x078bfbfd),
            new(0x00000005, 0, 0, 0, 0x00000003, 0),
            new(0x0000000B, 0, 0, 0x00000001, 0x00000100, 0),
            new(0x0000000B, 1, 0, 0x00000001, 0x00000201, 0),
            new(0x0000000B, 2, 0, 0, 0x00000002, 0),
            new(0x40000000, 0, 0x40000001, 0x54474354, 0x43544743, 0x47435447),
            new(0x80000000, 0, 0x8000000a, 0x68747541, 0x444d4163, 0x69746e65),
            new(0x80000001, 0, 0x00060fb1, 0, 0x00000005, 0x2193fbfd),
            new(0x80000002, 0, 0x554d4551, 0x72695620, 0x6c617574, 0x55504320),
            new(0x80000003, 0, 0x72657620, 0x6e6f6973, 0x352e3220, 0x0000002b),
            new(0x80000005, 0, 0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140),
            new(0x80000006, 0, 0, 0x42004200, 0x02008140, 0x00808140),
            new(0x80000008, 0, 0x00003028, 0, 0, 0),
            new(0x8000000A, 0, 0x00000001, 0x00000010, 0, 0),
        ],
        0x0000000d,
        0x8000000a,
        0x0000000B,
        40);

    /// <summary>
    /// qemu-system-i386's default CPU (QEMU 7.2 target/i386/cpu.c builtin_x86_defs "qemu32" after
    /// TCG's feature filtering), as CPUID answers it in a guest under qemu-system-i386 -machine pc:
    /// GenuineIntel family 6 model 6, levels 4 and 0x80000004, no long mode, no NX, no MTRR, no
    /// PSE36 (so 32 physical address bits), leaf 2 cache descriptors and leaf 4 cache levels.
    /// </summary>
    public static CpuModel Qemu32 { get; } = new(
        "qemu32",
        [
            new(0x00000000, 0, 0x00000004, 0x756e6547, 0x6c65746e, 0x49656e69),
            new(0x00000001, 0, 0x00000663, 0x00000800, 0x80000001, 0x0781abfd),
            new(0x00000002, 0, 0x00000001, 0, 0x0000004d, 0x002c307d),
            new(0x00000004, 0, 0x00000121, 0x01c0003f, 0x0000003f, 0x00000001),
            new(0x00000004, 1, 0x00000122, 0x01c0003f, 0x0000003f, 0x00000001),
            new(0x00000004, 2, 0x00000143, 0x03c0003f, 0x00000fff, 0x00000001),
            new(0x00000004, 3, 0x00000163, 0x03c0003f, 0x00003fff, 0x00000006),
            new(0x40000000, 0, 0x40000001, 0x54474354, 0x43544743, 0x47435447),
            new(0x80000000, 0, 0x80000004, 0x756e6547, 0x6c65746e, 0x49656e69),
            new(0x80000001, 0, 0x00000663, 0, 0, 0),
            new(0x80000002, 0, 0x554d4551, 0x72695620, 0x6c617574, 0x55504320),
            new(0x80000003, 0, 0x72657620, 0x6e6f6973, 0x352e3220, 0x0000002b),
        ],
        0x00000004,
        0x80000004,
        0x00000004,
        32);

    /// <summary>The model QEMU's <c>-cpu NAME</c> names, or null.</summary>
    public static CpuModel? ByName(string name) => All.FirstOrDefault(m => m.Name == name);

    /// <summary>
    /// CPUID. One leaf per model depends on ECX; every other listed leaf ignores it. Unlisted
    /// leaves inside the valid ranges read as zero. Past a range's top (basic, hypervisor up to
    /// 0x40000001, extended; 0xC0000000 and up have none) QEMU answers with the highest basic
    /// leaf, ECX kept (cpu_x86_cpuid, whatever the vendor): zeros on qemu64 (leaf 0xD), leaf 4's
    /// cache levels on qemu32 — both measured in a guest.
    /// </summary>
    public (uint Eax, uint Ebx, uint Ecx, uint Edx) Query(uint leaf, uint subleaf)
    {
        uint limit = leaf >= 0xC0000000 ? 0 : leaf >= 0x80000000 ? MaxExtendedLeaf : leaf >= 0x40000000 ? MaxHypervisorLeaf : MaxBasicLeaf;
        if (leaf > limit)
        {
            leaf = MaxBasicLeaf;
        }

        uint sub = leaf == _subleafLeaf ? subleaf : 0;
        if (leaf == 0x0000000B && subleaf > 2)
        {
            // Topology levels past the last: level number in ECX[7:0], type invalid.
            return (0, 0, subleaf & 0xFF, 0);
        }

        foreach (var entry in _leaves)
        {
            if (entry.Leaf == leaf && entry.Subleaf == sub)
            {
                return (entry.Eax, entry.Ebx, entry.Ecx, entry.Edx);
            }
        }

        return (0, 0, 0, 0);
    }
}
