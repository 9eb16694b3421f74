using System.Globalization;
using Emulator.Core.Machine;

namespace Emulator.Hosting.Qemu;

/// <summary>What the <c>-global</c> options set: the debug console's port, secure flash, S3 off; and QEMU's warnings.</summary>
public sealed record QemuGlobalEffects(ushort? DebugConPort, bool SecureFlash, bool DisableS3, IReadOnlyList<string> Warnings);

/// <summary>
/// <c>-global DRIVER.PROPERTY=VALUE</c> and <c>-global driver=D,property=P,value=V</c> as QEMU 7.2
/// applies them (qdev-monitor.c qemu_global_option, hw/core/qdev-properties.c): the short form
/// splits at the first dot, so <c>cfi.pflash01.secure=on</c> names the class "cfi", which does
/// not exist — QEMU warns "global cfi.pflash01.secure has invalid class name" and the chips stay
/// non-secure (checked on QEMU 7.2; libvirt uses the driver= form). A global for a device the
/// board does not have is not applied (PIIX4_PM on q35: "not used"; ICH9-LPC on pc: silent).
/// </summary>
public static class QemuGlobals
{
    /// <summary>Properties of the devices emu knows that it does not model: refused by name, not "not found".</summary>
    private static readonly Dictionary<string, string[]> Unmodelled = new(StringComparer.Ordinal)
    {
        ["cfi.pflash01"] = ["drive", "num-blocks", "sector-length", "width", "device-width", "max-device-width", "big-endian", "id0", "id1", "id2", "id3", "name", "old-multiple-chip-handling"],
        ["ICH9-LPC"] = ["noreboot", "smm-compat", "x-smi-broadcast", "x-smi-cpu-hotplug", "x-smi-cpu-hotunplug", "disable_s4", "s4_val", "enable_tco", "x-keep-pci-slot-hpc"],
        ["PIIX4_PM"] = ["smb_io_base", "disable_s4", "s4_val", "acpi-pci-hotplug-with-bridge-support", "acpi-root-pci-hotplug", "memory-hotplug-support", "smm-compat", "smm-enabled", "x-not-migrate-acpi-index"],
        ["isa-debugcon"] = ["chardev", "index", "readback"],
    };

    /// <summary>Applies every <c>-global</c> in order on a machine with <paramref name="chipset"/>.</summary>
    public static QemuGlobalEffects Apply(IEnumerable<(string Option, string Text)> globals, PcChipset chipset)
    {
        ushort? port = null;
        bool secure = false, disableS3 = false;
        var warnings = new List<string>();
        foreach (var (option, text) in globals)
        {
            string where = $"{option} {text}";
            var (driver, property, value) = Split(where, text);
            string global = $"{driver}.{property}={value}";
            switch (driver, property)
            {
                case ("isa-debugcon", "iobase"):
                    port = QemuDevices.DebugConPort(where, value);
                    break;
                case ("cfi.pflash01", "secure"):
                    secure = Bool(global, property, value);
                    break;
                case ("ICH9-LPC", "disable_s3") when chipset == PcChipset.Q35:
                case ("PIIX4_PM", "disable_s3") when chipset == PcChipset.I440fx:
                    disableS3 = UInt(global, property, value) != 0;
                    break;
                case ("PIIX4_PM", "disable_s3"):
                    warnings.Add($"global {global} not used");
                    break;
                case ("ICH9-LPC", "disable_s3"):
                    break;
                case var _ when Unmodelled.TryGetValue(driver, out var known):
                    throw new UsageException(known.Contains(property)
                        ? $"{where}: global property {driver}.{property} is not supported by emu"
                        : $"can't apply global {global}: Property '{driver}.{property}' not found");
                case var _ when MeantDottedClass(driver, property):
                    warnings.Add($"global {driver}.{property} has invalid class name");
                    break;
                default:
                    throw new UsageException($"{where}: global property {driver}.{property} is not supported by emu");
            }
        }

        return new QemuGlobalEffects(port, secure, disableS3, warnings);
    }

    /// <summary>
    /// The short form for a class whose name has a dot (<c>cfi.pflash01.secure=on</c>): QEMU split
    /// it at the first dot, finds no class "cfi", warns and applies nothing.
    /// </summary>
    private static bool MeantDottedClass(string driver, string property) =>
        property.LastIndexOf('.') is int dot && dot > 0 && Unmodelled.ContainsKey($"{driver}.{property[..dot]}");

    /// <summary>QEMU's two spellings; the short one split at the first dot (sscanf "%63[^.=].%63[^=]").</summary>
    private static (string Driver, string Property, string Value) Split(string where, string text)
    {
        if (text.Contains("driver=", StringComparison.Ordinal) || text.Contains("property=", StringComparison.Ordinal) || text.Contains("value=", StringComparison.Ordinal))
        {
            var kv = QemuKeyValues.Parse("-global", text, null);
            string? driver = kv.Get("driver"), property = kv.Get("property"), value = kv.Get("value");
            kv.RejectUnknown("-global", text);
            if (driver == null || property == null || value == null)
            {
                throw new UsageException($"{where}: options 'driver', 'property', and 'value' are required");
            }

            return (driver, property, value);
        }

        int dot = text.IndexOfAny(['.', '=']);
        int eq = dot < 0 ? -1 : text.IndexOf('=', dot + 1);
        if (dot <= 0 || text[dot] != '.' || eq <= dot + 1)
        {
            throw new UsageException($"{where}: Invalid parameter '{text}'");
        }

        return (text[..dot], text[(dot + 1)..eq], text[(eq + 1)..]);
    }

    private static bool Bool(string global, string property, string value) => value switch
    {
        "on" or "yes" or "true" or "y" => true,
        "off" or "no" or "false" or "n" => false,
        _ => throw new UsageException($"can't apply global {global}: Parameter '{property}' expects 'on' or 'off'"),
    };

    private static ulong UInt(string global, string property, string value) =>
        ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n)
        || (value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && ulong.TryParse(value[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out n))
            ? n
            : throw new UsageException($"can't apply global {global}: Parameter '{property}' expects uint64");
}
