namespace Emulator.Benchmarks;

/// <summary>Finds the firmware fixtures (firmware-fixtures/fetch.sh) from the benchmark's working directory upward.</summary>
public static class Fixtures
{
    public static string Path(string name)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string file = System.IO.Path.Combine(dir.FullName, "firmware-fixtures", "cache", name);
                if (File.Exists(file))
                {
                    return file;
                }
            }
        }

        throw new FileNotFoundException($"firmware fixture {name} not found: run firmware-fixtures/fetch.sh");
    }
}
