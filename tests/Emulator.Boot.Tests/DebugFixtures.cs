namespace Emulator.Boot.Tests;

/// <summary>
/// Finds the DEBUG OVMF builds that firmware-fixtures/build-debug.sh compiles from the pinned
/// edk2 source and caches outside the clone; firmware-fixtures/cache/debug links to the cache
/// entry. A missing image fails the test naming the script that builds it — never a silent skip.
/// </summary>
public static class DebugFixtures
{
    public const string Code2M = "OVMF_CODE.fd";
    public const string Vars2M = "OVMF_VARS.fd";
    public const string Code4M = "OVMF_CODE_4M.fd";
    public const string Vars4M = "OVMF_VARS_4M.fd";

    /// <summary>The 2 MB build's .debug files (a folder), for the gdb server's --symbols.</summary>
    public const string Symbols2M = "symbols-2m";

    public static string Path(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string fixtures = System.IO.Path.Combine(dir.FullName, "firmware-fixtures");
            if (Directory.Exists(fixtures))
            {
                string file = System.IO.Path.Combine(fixtures, "cache", "debug", name);
                if (!File.Exists(file) && !Directory.Exists(file))
                {
                    throw new InvalidOperationException(
                        $"DEBUG firmware fixture {name} missing from {System.IO.Path.Combine(fixtures, "cache", "debug")}: run firmware-fixtures/build-debug.sh "
                        + "(builds DEBUG OVMF from the edk2 source pinned in firmware-fixtures/debug-build.txt, about 9 minutes on 2 idle cores when not cached, "
                        + "and links the cache entry there)");
                }

                return file;
            }
        }

        throw new InvalidOperationException("firmware-fixtures/ not found above " + AppContext.BaseDirectory);
    }
}
