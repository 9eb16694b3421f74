namespace Emulator.Boot.Tests;

/// <summary>
/// Issue 15: <c>compat</c> and <c>boot</c> give one size-and-layout verdict. Over CODE/VARS pairs
/// of sizes QEMU's pc machine accepts or refuses, both refuse (exit 2, the same line) or both
/// accept (compat 0 or 1 on the contents; boot --force --snapshot reaches its first milestone).
/// </summary>
[Trait("Category", "Boot")]
public class CompatBootAgreementTests
{
    private const int Code2MSize = 0x1E0000;

    public static TheoryData<string, string, bool> Pairs() => new()
    {
        { "code2m", "vars2m", true },
        { "code2m", "vars4m", true },
        { "code4m", "vars4m", true },
        { "code2m", "vars-to-8m", true },
        { "code2m", "vars2m+1", false },
        { "code2m", "vars2m-512", false },
        { "code2m", "empty", false },
        { "code2m", "vars-past-8m", false },
        { "code2m+1", "vars2m", false },
        { "code2m+4095", "vars2m", false },
        { "code-past-8m", "vars2m", false },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void CompatAndBootAgree(string codeKind, string varsKind, bool accepted)
    {
        using var code = new TempCopy(Make(codeKind));
        using var vars = new TempCopy(Make(varsKind));
        byte[] codeBefore = code.Bytes, varsBefore = vars.Bytes;

        var compat = CliRunner.Run("compat", "--code", code.Path, "--vars", vars.Path);
        var boot = CliRunner.Run("boot", "--code", code.Path, "--vars", vars.Path, "--force", "--snapshot", "--until", "reset", "--memory", "32M", "--quiet");

        if (accepted)
        {
            Assert.True(compat.ExitCode is 0 or 1, compat.Stderr);
            Assert.True(boot.ExitCode == 0, boot.Stderr);
        }
        else
        {
            Assert.Equal(2, compat.ExitCode);
            Assert.Equal(2, boot.ExitCode);
            string line = Assert.Single(compat.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal(line, boot.Stderr.Trim());
            Assert.Matches("its size must be a non-zero multiple of 0x1000|combined size of system firmware exceeds 8388608 bytes", line);
        }

        Assert.Equal(codeBefore, code.Bytes);
        Assert.Equal(varsBefore, vars.Bytes);
    }

    private static byte[] Make(string kind)
    {
        byte[] code2m = File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M));
        byte[] vars2m = File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M));
        return kind switch
        {
            "code2m" => code2m,
            "code4m" => File.ReadAllBytes(Fixtures.Path(Fixtures.Code4M)),
            "code2m+1" => [.. code2m, 0xFF],
            "code2m+4095" => [.. code2m, .. Ff(4095)],
            "code-past-8m" => [.. Ff((8 << 20) + 0x1000 - Code2MSize), .. code2m],
            "vars2m" => vars2m,
            "vars4m" => File.ReadAllBytes(Fixtures.Path(Fixtures.Vars4M)),
            "vars2m+1" => [.. vars2m, 0xFF],
            "vars2m-512" => vars2m[..^512],
            "empty" => [],
            "vars-to-8m" => [.. vars2m, .. Ff((8 << 20) - Code2MSize - vars2m.Length)],
            "vars-past-8m" => [.. vars2m, .. Ff((8 << 20) - Code2MSize - vars2m.Length + 0x1000)],
            _ => throw new ArgumentException(kind),
        };
    }

    private static byte[] Ff(int count) => Enumerable.Repeat((byte)0xFF, count).ToArray();
}
