namespace Emulator.Boot.Tests;

/// <summary>A temporary copy of a fixture (or of given bytes) that tests may write; deleted on dispose.</summary>
public sealed class TempCopy : IDisposable
{
    public TempCopy(string fixture)
        : this(File.ReadAllBytes(Fixtures.Path(fixture)))
    {
    }

    public TempCopy(byte[] bytes)
    {
        Path = CliRunner.TempFile(".fd");
        File.WriteAllBytes(Path, bytes);
    }

    public string Path { get; }

    public byte[] Bytes => File.ReadAllBytes(Path);

    /// <summary>Deletes the copy and any journal a run left beside it (a run killed on purpose leaves one).</summary>
    public void Dispose()
    {
        File.Delete(Path);
        File.Delete(Path + ".emu-journal");
    }
}
