namespace Emulator.Hosting.Boot;

/// <summary>
/// Where <c>emu boot</c> without firmware options looks: QEMU's firmware descriptor directories,
/// general to specific (QEMU docs/interop/firmware.json, "@Firmware": /usr/share/qemu/firmware,
/// /etc/qemu/firmware, $XDG_CONFIG_HOME/qemu/firmware), the directory of per-VM varstores
/// ($XDG_STATE_HOME/emu, after libvirt's per-domain nvram copies), and the fetched fixtures of a
/// source checkout as the last resort. Injectable so tests never depend on the host's files.
/// </summary>
public sealed record FirmwareSearch(IReadOnlyList<string> DescriptorDirectories, string StateDirectory, string? FixtureCache)
{
    /// <summary>The fixture pair <c>firmware-fixtures/fetch.sh</c> leaves (Debian's ovmf 4 MiB build, no secure boot).</summary>
    public const string FixtureCode = "OVMF_CODE_4M.fd";

    /// <summary>The fixture varstore template a boot without firmware options falls back to.</summary>
    public const string FixtureVars = "OVMF_VARS_4M.fd";

    /// <summary>The process environment's directories, the way QEMU's descriptor spec and the XDG base directory spec define them.</summary>
    public static FirmwareSearch FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable, AppContext.BaseDirectory);

    /// <summary>The search for this process: <paramref name="variable"/> reads the environment (XDG directories), <paramref name="programDirectory"/> is where the fixture cache is looked for above.</summary>
    public static FirmwareSearch FromEnvironment(Func<string, string?> variable, string programDirectory)
    {
        string home = variable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

        // XDG base directory spec: an unset, empty or relative value means the default.
        string Xdg(string name, string fallback) => variable(name) is { } v && Path.IsPathFullyQualified(v) ? v : Path.Combine(home, fallback);

        return new FirmwareSearch(
            ["/usr/share/qemu/firmware", "/etc/qemu/firmware", Path.Combine(Xdg("XDG_CONFIG_HOME", ".config"), "qemu", "firmware")],
            Path.Combine(Xdg("XDG_STATE_HOME", Path.Combine(".local", "state")), "emu"),
            FindFixtureCache(programDirectory));
    }

    /// <summary>firmware-fixtures/cache of the checkout emu was built in (the tests find it the same way), when it holds the pair.</summary>
    public static string? FindFixtureCache(string programDirectory)
    {
        for (var dir = new DirectoryInfo(programDirectory); dir != null; dir = dir.Parent)
        {
            string cache = Path.Combine(dir.FullName, "firmware-fixtures", "cache");
            if (File.Exists(Path.Combine(cache, FixtureCode)) && File.Exists(Path.Combine(cache, FixtureVars)))
            {
                return cache;
            }
        }

        return null;
    }
}
