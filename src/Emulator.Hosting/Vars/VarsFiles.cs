using Emulator.Firmware.Varstore;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Varstore;
using Emulator.Storage.Host;

namespace Emulator.Hosting.Vars;

/// <summary>
/// Reading and writing the user's varstore files. An edit is computed and verified on a copy in
/// memory first; then its writes go to the file in place, in the firmware's order, each one
/// flushed to the disk before the next (fsync). The file keeps its inode, owner, permissions and
/// any hard links (a VM manager's bookkeeping stays valid), and a crash or power loss between
/// two writes leaves exactly the intermediate states the firmware itself can leave and repairs:
/// the new record's State becomes VAR_ADDED only after its name and data are on the disk, and
/// the old copy is marked deleted only after that. A single write of the whole file would give
/// no such order (the kernel may persist its pages in any order) and a temporary file renamed
/// over the original would change the inode.
/// </summary>
public static class VarsFiles
{
    /// <summary>
    /// The store as the next boot would see it: the file with the complete records of any journal
    /// a killed <c>boot</c> left beside it applied in memory (nothing is written).
    /// </summary>
    public static byte[] Load(string path, string role = "vars")
    {
        using var file = VarstoreFile.Open(InputRole.Varstore(role), path, snapshot: true);
        return file.Bytes;
    }

    /// <summary>Applies <paramref name="writes"/> to the file at <paramref name="path"/>, which holds <paramref name="original"/>, crash-safely (through the journal).</summary>
    public static void ApplyInPlace(string path, byte[] original, IReadOnlyList<FlashWrite> writes)
    {
        // A journal beside the file belongs to a running or killed boot: its records would be
        // replayed over this edit at the next open, so the edit waits until a boot has settled it.
        string journal = VarstoreJournal.PathFor(path);
        if (File.Exists(journal))
        {
            throw new UsageException($"'{journal}' exists: a boot is using this store or was killed; let a boot finish with it first; nothing written");
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);

            // Refuse if the file changed since it was read (another tool, or a running VM writing it).
            var now = new byte[original.Length];
            file.ReadExactly(now);
            if (file.Length != original.Length || !now.AsSpan().SequenceEqual(original))
            {
                throw new UsageException($"vars file '{path}' changed while it was being edited (is a VM using it?); nothing written");
            }

            foreach (FlashWrite w in writes)
            {
                file.Seek(w.Offset, SeekOrigin.Begin);
                file.Write(w.Bytes);
                file.Flush(flushToDisk: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write vars file '{path}': {e.Message}");
        }
    }

    /// <summary>
    /// Writes a new file: a temporary file in the same directory, flushed, then renamed over the
    /// target, so the target is either absent/old or complete, never half written.
    /// </summary>
    public static void WriteNew(string path, byte[] bytes, bool force)
    {
        if (File.Exists(path) && !force)
        {
            throw new UsageException($"output '{path}' exists: give --force to replace it");
        }

        if (Directory.Exists(path))
        {
            throw new UsageException($"output '{path}' is a directory");
        }

        string full = OutputPaths.FullPath("output", path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }

            // Without force a target that appeared meanwhile (another emu making the same copy) is kept, not replaced.
            File.Move(temp, full, overwrite: force);
            DirectorySync.Flush(Path.GetDirectoryName(full)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DirectoryNotFoundException)
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }

            throw new UsageException($"cannot write '{path}': {e.Message}");
        }
    }
}
