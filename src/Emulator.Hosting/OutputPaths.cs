namespace Emulator.Hosting;

/// <summary>
/// Output file names from the command line, checked before any work starts: an empty name, a
/// NUL byte or an over-long name would otherwise surface as an <see cref="ArgumentException"/>
/// (a stack trace) from the first <see cref="Path"/> call, after minutes of booting.
/// </summary>
public static class OutputPaths
{
    /// <summary>The full path of <paramref name="path"/>, whose directory must exist; one-line <see cref="UsageException"/>s otherwise.</summary>
    public static string Check(string option, string path)
    {
        string full = FullPath(option, path);
        string? dir = Path.GetDirectoryName(full);
        if (dir != null && !Directory.Exists(dir))
        {
            throw new UsageException($"{option} '{path}': directory '{dir}' does not exist");
        }

        return full;
    }

    /// <summary><see cref="Path.GetFullPath(string)"/>, with a one-line <see cref="UsageException"/> for a name no file can have.</summary>
    public static string FullPath(string option, string path)
    {
        try
        {
            return Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or PathTooLongException or NotSupportedException)
        {
            throw new UsageException($"{option} '{path}': invalid path");
        }
    }

    /// <summary>Whether two names are one file (by full path); a name no file can have is no file's.</summary>
    public static bool SameFile(string a, string b)
    {
        try
        {
            return string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or PathTooLongException or NotSupportedException)
        {
            return false;
        }
    }
}
