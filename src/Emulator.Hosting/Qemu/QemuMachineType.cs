using Emulator.Core.Cpu;
using Emulator.Core.Machine;

namespace Emulator.Hosting.Qemu;

/// <summary>What <c>-machine TYPE[,prop=value...]</c> selects: the board, SMM, the HPET.</summary>
public sealed record QemuMachine(PcChipset Chipset, bool Smm, bool? Hpet);

/// <summary>
/// QEMU's machine and CPU names as emu models them, read the same way by <c>emu boot --machine</c>
/// / <c>--cpu</c> and by the QEMU drop-in's <c>-machine</c> / <c>-cpu</c>, with QEMU's wording
/// for what it refuses (softmmu/vl.c, hw/core/machine.c, target/i386/cpu.c).
/// </summary>
public static class QemuMachineType
{
    /// <summary>QEMU 7.2's versioned type names: the ones <c>pc</c> and <c>q35</c> alias.</summary>
    public const string PcTypeName = "pc-i440fx-7.2", Q35TypeName = "pc-q35-7.2";

    /// <summary>
    /// The board a machine type name selects, or null when emu does not know it: <c>pc</c>,
    /// <c>q35</c> and QEMU's versioned <c>pc-i440fx-X.Y</c> / <c>pc-q35-X.Y</c> (emu models 7.2's).
    /// </summary>
    public static PcChipset? ChipsetOf(string type) => type switch
    {
        "pc" => PcChipset.I440fx,
        "q35" => PcChipset.Q35,
        _ when type.StartsWith("pc-i440fx-", StringComparison.Ordinal) => PcChipset.I440fx,
        _ when type.StartsWith("pc-q35-", StringComparison.Ordinal) => PcChipset.Q35,
        _ => null,
    };

    /// <summary>
    /// <c>TYPE[,accel=tcg][,smm=on|off|auto][,hpet=on|off][,usb=off]</c> (the type may also be given
    /// as <c>type=</c>). smm=auto is on under TCG (hw/i386/x86.c x86_machine_is_smm_enabled). QEMU's
    /// messages: "unsupported machine type", "Parameter 'smm' does not accept value 'X'",
    /// "Property 'pc-q35-7.2-machine.X' not found", each after the option and its text.
    /// </summary>
    public static QemuMachine Parse(string option, string text) => Read($"{option} {text}", QemuKeyValues.Parse(option, text, "type"));

    /// <summary><see cref="Parse"/> on key-values already split; errors start with <paramref name="where"/>.</summary>
    internal static QemuMachine Read(string where, QemuKeyValues kv)
    {
        string type = kv.Get("type") ?? "pc";
        var chipset = ChipsetOf(type) ?? throw new UsageException($"{where}: unsupported machine type (emu models pc and q35)");
        if (kv.Get("accel") is { } accel && !accel.Split(':').Contains("tcg"))
        {
            throw new UsageException($"{where}: emu is an interpreter: only accel=tcg");
        }

        bool smm = kv.Get("smm") switch
        {
            null or "on" or "auto" => true,
            "off" => false,
            var v => throw new UsageException($"{where}: Parameter 'smm' does not accept value '{v}'"),
        };

        if (kv.Get("usb") is { } usb && usb != "off")
        {
            throw new UsageException($"{where}: emu supports only usb=off");
        }

        bool? hpet = kv.Has("hpet") ? kv.GetBool(where, "hpet", true) : null;
        if (kv.FirstUnknownKey() is { } key)
        {
            throw new UsageException($"{where}: Property '{(chipset == PcChipset.Q35 ? Q35TypeName : PcTypeName)}-machine.{key}' not found");
        }

        return new QemuMachine(chipset, smm, hpet);
    }

    /// <summary>
    /// A <c>-cpu</c> model: qemu64 and qemu32 (QEMU's names); any other is QEMU's "unable to find
    /// CPU model 'X'", or, for a model QEMU has that emu does not, said so.
    /// </summary>
    public static CpuModel ReadCpu(string where, string name)
    {
        string model = name.Split(',')[0];
        if (CpuModel.ByName(model) is { } known && model == name)
        {
            return known;
        }

        if (model != name)
        {
            throw new UsageException($"{where}: emu models the CPU as QEMU's named model only, without feature flags");
        }

        throw new UsageException(QemuCpuNames.Contains(model)
            ? $"{where}: emu models only the qemu64 and qemu32 CPUs"
            : $"{where}: unable to find CPU model '{model}'");
    }

    /// <summary>Other x86 CPU models of QEMU 7.2 (target/i386/cpu.c builtin_x86_defs), refused as not modelled rather than unknown.</summary>
    private static readonly HashSet<string> QemuCpuNames = new(StringComparer.Ordinal)
    {
        "host", "max", "base", "kvm64", "kvm32", "phenom", "coreduo", "core2duo", "pentium", "pentium2", "pentium3",
        "486", "n270", "athlon", "Conroe", "Penryn", "Nehalem", "Westmere", "SandyBridge", "IvyBridge", "Haswell",
        "Broadwell", "Skylake-Client", "Skylake-Server", "Cascadelake-Server", "Cooperlake", "Icelake-Server",
        "Denverton", "Snowridge", "KnightsMill", "Opteron_G1", "Opteron_G2", "Opteron_G3", "Opteron_G4", "Opteron_G5",
        "EPYC", "EPYC-Rome", "EPYC-Milan", "Dhyana",
    };
}
