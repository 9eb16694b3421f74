namespace Emulator.Fuzz.Tests.Support;

/// <summary>The pinned firmware fixtures (firmware-fixtures/cache) as seed inputs for the mutators.</summary>
public static class Seeds
{
    public static byte[] Fixture(string name)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "firmware-fixtures", "cache", name);
            if (File.Exists(path))
            {
                return File.ReadAllBytes(path);
            }
        }

        Assert.Fail($"firmware fixture {name} missing: run firmware-fixtures/fetch.sh");
        return [];
    }
}
