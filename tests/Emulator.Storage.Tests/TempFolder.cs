namespace Emulator.Storage.Tests;

/// <summary>A fresh directory under the system temp folder, removed with everything in it.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "emu-storage-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    /// <summary>Writes a file (creating its directories), with a fixed mtime so FAT's 2-second stamps round-trip.</summary>
    public string Write(string relative, string text) => Write(relative, System.Text.Encoding.UTF8.GetBytes(text));

    public string Write(string relative, byte[] bytes)
    {
        string full = this[relative];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        File.SetLastWriteTimeUtc(full, new DateTime(2024, 5, 6, 7, 8, 10, DateTimeKind.Utc));
        return full;
    }

    /// <summary>Every file and directory below, as "path" (directories with a trailing '/') → content, for comparing trees.</summary>
    public SortedDictionary<string, string> Snapshot()
    {
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in Directory.EnumerateFileSystemEntries(Path, "*", SearchOption.AllDirectories))
        {
            string rel = System.IO.Path.GetRelativePath(Path, entry).Replace('\\', '/');
            if (new FileInfo(entry).LinkTarget != null)
            {
                all[rel] = "-> " + new FileInfo(entry).LinkTarget;
            }
            else if (Directory.Exists(entry))
            {
                all[rel + "/"] = "";
            }
            else
            {
                all[rel] = Convert.ToHexString(File.ReadAllBytes(entry));
            }
        }

        return all;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
