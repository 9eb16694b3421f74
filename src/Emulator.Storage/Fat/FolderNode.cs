namespace Emulator.Storage.Fat;

/// <summary>
/// A file or directory as a tree: what emu read from the host folder (and presented), or what the
/// guest left in the FAT file system. The same shape on both sides, so a commit compares them
/// name by name.
/// </summary>
internal sealed class FolderNode(string name, bool isDirectory)
{
    public string Name { get; } = name;

    public bool IsDirectory { get; } = isDirectory;

    /// <summary>Bytes, for a file.</summary>
    public long Size { get; init; }

    /// <summary>Host side: the file's mtime when read (a commit refuses to overwrite a file changed since). Guest side: the entry's write time.</summary>
    public DateTime ModifiedUtc { get; set; }

    public DateTime AccessedUtc { get; init; }

    /// <summary>The clusters holding the file or directory, in chain order (empty for an empty file and the FAT16 root).</summary>
    public uint[] Chain { get; set; } = [];

    public List<FolderNode> Children { get; } = [];

    public FolderNode? Child(string name) => Children.Find(c => c.Name == name);

    /// <summary>Every node below, with its '/'-separated path from the root.</summary>
    public IEnumerable<(string Path, FolderNode Node)> Descendants(string prefix = "")
    {
        foreach (var child in Children)
        {
            string path = prefix.Length == 0 ? child.Name : $"{prefix}/{child.Name}";
            yield return (path, child);
            foreach (var below in child.Descendants(path))
            {
                yield return below;
            }
        }
    }
}
