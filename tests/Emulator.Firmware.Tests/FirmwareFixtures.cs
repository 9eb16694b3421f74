using System.Collections.Concurrent;

namespace Emulator.Firmware.Tests;

/// <summary>Loads the pinned OVMF images from firmware-fixtures/cache, found by walking up from the test binaries.</summary>
internal static class FirmwareFixtures
{
    public const string Code = "OVMF_CODE.fd";
    public const string Code4M = "OVMF_CODE_4M.fd";
    public const string Unified = "OVMF.fd";
    public const string Vars = "OVMF_VARS.fd";
    public const string Vars4M = "OVMF_VARS_4M.fd";

    private const string MissingMessage = "firmware fixtures missing: run firmware-fixtures/fetch.sh";

    private static readonly ConcurrentDictionary<string, byte[]> s_bytes = new();
    private static readonly ConcurrentDictionary<string, FirmwareImage> s_images = new();

    /// <summary>Returns a fresh copy so tests may mutate it.</summary>
    public static byte[] Load(string name) => (byte[])s_bytes.GetOrAdd(name, ReadFixture).Clone();

    /// <summary>Parsed once per run; parsing the code images inflates about 13 MiB of LZMA.</summary>
    public static FirmwareImage Parse(string name) => s_images.GetOrAdd(name, n => FirmwareImage.Parse(Load(n)));

    private static byte[] ReadFixture(string name)
    {
        string path = Path.Combine(FindCacheDirectory(), name);
        if (!File.Exists(path))
        {
            Assert.Fail($"{MissingMessage} ({path} not found)");
        }

        return File.ReadAllBytes(path);
    }

    private static string FindCacheDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "firmware-fixtures")))
            {
                return Path.Combine(dir.FullName, "firmware-fixtures", "cache");
            }
        }

        Assert.Fail($"{MissingMessage} (no firmware-fixtures directory above {AppContext.BaseDirectory})");
        return string.Empty;
    }
}
