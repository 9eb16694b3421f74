using Emulator.Hosting.Inputs;
using Emulator.Hosting;

namespace Emulator.Hosting.Tests.Inputs;

/// <summary>The bounded reader under the commands: a file that changes between its check and its reading is refused.</summary>
[Trait("Category", "Unit")]
public class InputFileTests
{
    [Theory]
    [InlineData(+1, "changed while it was being opened")]
    [InlineData(-1, "changed while it was being opened")]
    [InlineData(0, null)]
    public void ReadsExactlyTheCheckedSize(int change, string? refusal)
    {
        using var file = new TempFile(new byte[0x1000]);
        var role = InputRole.Flash("code");
        long size = InputFile.Check(role, file.Path);
        using (var f = new FileStream(file.Path, FileMode.Open))
        {
            f.SetLength(size + change);
        }

        using var handle = File.OpenHandle(file.Path);
        if (refusal == null)
        {
            Assert.Equal(new byte[0x1000], InputFile.ReadOpened(role, file.Path, handle, size));
        }
        else
        {
            var e = Assert.Throws<UsageException>(() => InputFile.ReadOpened(role, file.Path, handle, size));
            Assert.Equal($"code file '{file.Path}' {refusal}: try again", e.Message);
        }
    }

    [Fact]
    public void ASymbolicLinkToARegularFileIsRead()
    {
        using var file = new TempFile(new byte[0x2000]);
        string link = file.Path + ".link";
        File.CreateSymbolicLink(link, file.Path);
        try
        {
            Assert.Equal(0x2000, InputFile.Read(InputRole.Flash("vars"), link).Length);
        }
        finally
        {
            File.Delete(link);
        }
    }

    /// <summary>A temporary file holding <paramref name="bytes"/>, deleted on dispose.</summary>
    private sealed class TempFile(byte[] bytes) : IDisposable
    {
        public string Path { get; } = Write(bytes);

        public void Dispose() => File.Delete(Path);

        private static string Write(byte[] bytes)
        {
            string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"emu-test-{Guid.NewGuid():N}.fd");
            File.WriteAllBytes(path, bytes);
            return path;
        }
    }
}
