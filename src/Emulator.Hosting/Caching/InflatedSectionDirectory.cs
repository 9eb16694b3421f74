using System.Security.Cryptography;
using Emulator.Firmware;

namespace Emulator.Hosting.Caching;

/// <summary>
/// The inflated-section cache kept in a directory (by default <c>$XDG_CACHE_HOME/emu/inflated</c>,
/// see <see cref="ForUser"/>): one file per compressed section, named by the SHA-256 of its
/// compressed bytes, holding a magic, the SHA-256 of the inflated bytes and the inflated bytes.
/// A hit costs reading the file and hashing it (≈10 ms for OVMF's 13 MiB against ≈0.1–0.2 s of
/// LZMA in a fresh process), and the hash is checked on every read, so a damaged or tampered file
/// is a miss (and is removed), never wrong firmware facts. Files are written to a temporary name
/// and renamed, so a concurrent emu or a kill mid-write leaves either the old file or the new
/// one. The directory is kept under <see cref="MaxBytes"/>, oldest use first out. Every host
/// failure (unwritable directory, full disk) just means no caching: a parse never fails
/// because of its cache.
/// </summary>
public sealed class InflatedSectionDirectory : IInflatedSectionCache
{
    /// <summary>The most the directory holds: about twenty OVMF builds.</summary>
    public const long MaxBytes = 256L << 20;

    private static readonly byte[] Magic = "EMUINFL1"u8.ToArray();
    private const int HashSize = 32;
    private static readonly int HeaderSize = Magic.Length + HashSize;

    private readonly string _directory;
    private readonly long _maxBytes;

    /// <param name="directory">Where the files live; made (mode 0700) on the first store.</param>
    /// <param name="maxBytes">The directory's bound.</param>
    public InflatedSectionDirectory(string directory, long maxBytes = MaxBytes)
    {
        _directory = directory;
        _maxBytes = maxBytes;
    }

    /// <summary>
    /// This user's cache, or null when switched off: <c>EMU_CACHE_DIR</c> if set (empty or
    /// <c>off</c> switches caching off), else <c>$XDG_CACHE_HOME/emu</c> (the XDG base directory
    /// spec: only an absolute value counts), else <c>~/.cache/emu</c>; the files go in its
    /// <c>inflated</c> folder.
    /// </summary>
    public static InflatedSectionDirectory? ForUser(Func<string, string?> variable)
    {
        string? root = variable("EMU_CACHE_DIR");
        if (root != null)
        {
            return root.Length == 0 || root == "off" ? null : new InflatedSectionDirectory(Path.Combine(Path.GetFullPath(root), "inflated"));
        }

        string home = variable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length == 0)
        {
            return null;
        }

        string cache = variable("XDG_CACHE_HOME") is { } x && Path.IsPathFullyQualified(x) ? x : Path.Combine(home, ".cache");
        return new InflatedSectionDirectory(Path.Combine(cache, "emu", "inflated"));
    }

    /// <summary>Where the files live.</summary>
    public string DirectoryPath => _directory;

    /// <inheritdoc/>
    public byte[]? Find(ReadOnlySpan<byte> compressed, long length)
    {
        string path = PathFor(compressed);
        try
        {
            byte[] inflated = [];
            bool intact;
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1))
            {
                Span<byte> header = stackalloc byte[HeaderSize];
                intact = file.Length == HeaderSize + length;
                if (intact)
                {
                    inflated = new byte[length];
                    file.ReadExactly(header);
                    file.ReadExactly(inflated);
                    intact = header[..Magic.Length].SequenceEqual(Magic) && SHA256.HashData(inflated).AsSpan().SequenceEqual(header[Magic.Length..]);
                }
            }

            if (!intact)
            {
                Remove(path);
                return null;
            }

            // The last use orders eviction.
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
            return inflated;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not there (a miss), or unreadable: no caching.
            return null;
        }
    }

    /// <inheritdoc/>
    public void Store(ReadOnlySpan<byte> compressed, byte[] inflated)
    {
        string path = PathFor(compressed);
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            _ = OperatingSystem.IsWindows()
                ? Directory.CreateDirectory(_directory)
                : Directory.CreateDirectory(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(Magic);
                file.Write(SHA256.HashData(inflated));
                file.Write(inflated);
            }

            File.Move(temporary, path, overwrite: true);
            Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Remove(temporary);
        }
    }

    /// <summary>Removes the least recently used files until the directory is within its bound (temporary files of live writers are left alone).</summary>
    private void Trim()
    {
        var files = new DirectoryInfo(_directory).GetFiles("*.bin").OrderByDescending(f => f.LastWriteTimeUtc).ToList();
        long total = 0;
        foreach (var f in files)
        {
            total += f.Length;
            if (total > _maxBytes)
            {
                Remove(f.FullName);
            }
        }
    }

    private string PathFor(ReadOnlySpan<byte> compressed) => Path.Combine(_directory, Convert.ToHexStringLower(SHA256.HashData(compressed)) + ".bin");

    private static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Someone else's file or a read-only directory: it stays a miss.
        }
    }
}
