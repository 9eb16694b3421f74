namespace Emulator.Boot.Tests;

/// <summary>
/// Finds the firmware fixtures fetched by firmware-fixtures/fetch.sh. A missing file fails the
/// test with the reason and the command that fixes it — never a silent skip.
/// </summary>
public static class Fixtures
{
    public const string Code2M = "OVMF_CODE.fd";
    public const string Vars2M = "OVMF_VARS.fd";
    public const string Code4M = "OVMF_CODE_4M.fd";
    public const string Vars4M = "OVMF_VARS_4M.fd";
    public const string Unified = "OVMF.fd";

    /// <summary>Bookworm's 4 MB Secure Boot build (SMM: the q35 machine); it boots with <see cref="Vars4M"/> or the .ms/.snakeoil stores.</summary>
    public const string Code4MSecboot = "OVMF_CODE_4M.secboot.fd";

    /// <summary>The 2 MB code of Debian's previous update, ovmf 2022.11-6+deb12u1 (optional in the manifest; its VARS equal deb12u2's).</summary>
    public const string Code2MDeb12u1 = "OVMF_CODE.deb12u1.fd";

    public static string Path(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string cache = System.IO.Path.Combine(dir.FullName, "firmware-fixtures", "cache");
            if (Directory.Exists(System.IO.Path.Combine(dir.FullName, "firmware-fixtures")))
            {
                string file = System.IO.Path.Combine(cache, name);
                if (!File.Exists(file))
                {
                    throw new InvalidOperationException(
                        $"firmware fixture {name} missing from {cache}: run firmware-fixtures/fetch.sh (the Debian ovmf builds pinned in firmware-fixtures/manifest.txt)");
                }

                return file;
            }
        }

        throw new InvalidOperationException("firmware-fixtures/ not found above " + AppContext.BaseDirectory);
    }
}
