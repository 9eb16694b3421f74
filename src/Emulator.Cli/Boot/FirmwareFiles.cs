using System.Security.Cryptography;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Reporting;

namespace Emulator.Cli.Boot;

/// <summary>Reads the user's firmware files once, with one-line errors for missing, unreadable or empty files.</summary>
public static class FirmwareFiles
{
    /// <summary>Images larger than this cannot be flash firmware on the PC machine (16 MiB at most).</summary>
    private const long MaxFileSize = 64L << 20;

    public static (byte[] Bytes, FirmwareFileInfo Info) Load(string role, string path)
    {
        Check(role, path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{role} file '{path}' cannot be read: {e.Message}");
        }

        return (bytes, Describe(role, path, bytes));
    }

    /// <summary>The file exists, is a regular file and is small enough to be firmware; one-line errors otherwise.</summary>
    public static void Check(string role, string path)
    {
        FileInfo fi;
        try
        {
            fi = new FileInfo(path);
        }
        catch (Exception e) when (e is ArgumentException or PathTooLongException or NotSupportedException)
        {
            throw new UsageException($"{role} file '{path}': invalid path");
        }

        if (Directory.Exists(path))
        {
            throw new UsageException($"{role} file '{path}' is a directory");
        }

        if (!fi.Exists)
        {
            throw new UsageException($"{role} file '{path}' does not exist");
        }

        if (fi.Length > MaxFileSize)
        {
            throw new UsageException($"{role} file '{path}' is {fi.Length} bytes: too large for system firmware");
        }
    }

    /// <summary>The report's record of an input file: its role, full path, size and SHA-256 of the bytes the machine starts from.</summary>
    public static FirmwareFileInfo Describe(string role, string path, byte[] bytes) =>
        new(role, Path.GetFullPath(path), bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)));
}
