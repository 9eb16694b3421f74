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
                        $"firmware fixture {name} missing from {cache}: run firmware-fixtures/fetch.sh (Debian ovmf 2022.11-6+deb12u2)");
                }

                return file;
            }
        }

        throw new InvalidOperationException("firmware-fixtures/ not found above " + AppContext.BaseDirectory);
    }
}
