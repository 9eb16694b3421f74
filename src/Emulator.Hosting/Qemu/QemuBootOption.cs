using System.Globalization;
using Emulator.Hosting.Boot;

namespace Emulator.Hosting.Qemu;

/// <summary>
/// <c>-boot [order=]DRIVES][,once=DRIVES][,menu=on|off][,splash-time=MS][,reboot-timeout=MS][,strict=on|off]</c>
/// with QEMU 7.2's checks and words (softmmu/bootdevice.c validate_bootdevices, hw/nvram/fw_cfg.c
/// fw_cfg_bootsplash and fw_cfg_reboot, hw/i386/pc.c set_boot_dev). strict=on only appends HALT to
/// a non-empty <c>bootorder</c>, and emu's is empty (no bootindex devices): nothing changes.
/// <c>splash=FILE</c> (a SeaBIOS logo) is refused.
/// </summary>
internal static class QemuBootOption
{
    public static BootDeviceOptions Read(string option, string arg)
    {
        var kv = QemuKeyValues.Parse(option, arg, "order");
        string order = kv.Get("order") is { } o ? Devices(o) : "cad";
        string? once = kv.Get("once") is { } n ? Devices(n) : null;
        bool menu = Bool(kv, "menu");
        Bool(kv, "strict");
        if (kv.Get("splash") != null)
        {
            throw new UsageException($"{option} {arg}: emu has no display: splash= is not supported");
        }

        ushort? wait = kv.Get("splash-time") is { } t
            ? Milliseconds("splash-time", t, 0) is { } w ? (ushort)w : throw new UsageException("splash-time is invalid,it should be a value between 0 and 65535")
            : null;
        int reboot = kv.Get("reboot-timeout") is { } r
            ? Milliseconds("reboot-timeout", r, -1) ?? throw new UsageException("reboot timeout is invalid,it should be a value between -1 and 65535")
            : -1;
        if (kv.FirstUnknownKey() is { } key)
        {
            throw new UsageException($"Parameter 'boot.{key}' is unexpected");
        }

        foreach (string devices in once != null ? [order, once] : new[] { order })
        {
            if (devices.Length > 3)
            {
                throw new UsageException("Too many boot devices for PC");
            }

            if (devices.FirstOrDefault(c => c is not ('a' or 'b' or 'c' or 'd' or 'n')) is char bad and not '\0')
            {
                throw new UsageException($"Invalid boot device for PC: '{bad}'");
            }
        }

        return new BootDeviceOptions(order, once, menu, wait, reboot);
    }

    /// <summary>validate_bootdevices: each of a–p, none twice.</summary>
    private static string Devices(string devices)
    {
        var seen = new HashSet<char>();
        foreach (char c in devices)
        {
            if (c is < 'a' or > 'p')
            {
                throw new UsageException($"Invalid boot device '{c}'");
            }

            if (!seen.Add(c))
            {
                throw new UsageException($"Boot device '{c}' was given twice");
            }
        }

        return devices;
    }

    private static bool Bool(QemuKeyValues kv, string key) => kv.Get(key) switch
    {
        null or "off" => false,
        "on" => true,
        _ => throw new UsageException($"Parameter 'boot.{key}' expects 'on' or 'off'"),
    };

    /// <summary>A number from <paramref name="min"/> to 65535, or null when out of range; not a number: QEMU's type error.</summary>
    private static int? Milliseconds(string key, string text, int min) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
            ? v >= min && v <= ushort.MaxValue ? (int)v : null
            : throw new UsageException($"Parameter 'boot.{key}' expects integer");
}
