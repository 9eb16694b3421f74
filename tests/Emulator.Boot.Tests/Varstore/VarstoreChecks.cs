using System.Diagnostics;
using Emulator.Hosting.Bench;
using Emulator.Hosting.Varstore;

namespace Emulator.Boot.Tests.Varstore;

/// <summary>Shared checks for the persistence tests: prefix matching, file identity, the file as the next boot sees it.</summary>
internal static class VarstoreChecks
{
    /// <summary>
    /// Every k such that <paramref name="actual"/> is <paramref name="start"/> with the first k
    /// operations applied (several when an operation changes nothing, such as erasing erased
    /// blocks). Keeps a running count of differing bytes, so the cost is the operations' total length.
    /// </summary>
    public static List<long> MatchingPrefixes(byte[] start, IEnumerable<FlashWorkloadOperation> operations, byte[] actual)
    {
        Assert.Equal(start.Length, actual.Length);
        var expected = (byte[])start.Clone();
        long differing = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            differing += expected[i] != actual[i] ? 1 : 0;
        }

        var matches = new List<long>();
        long k = 0;
        if (differing == 0)
        {
            matches.Add(0);
        }

        foreach (var op in operations)
        {
            for (int i = op.Offset; i < op.Offset + op.Length; i++)
            {
                bool before = expected[i] != actual[i];
                expected[i] = op.Value;
                bool after = op.Value != actual[i];
                differing += (after ? 1 : 0) - (before ? 1 : 0);
            }

            k++;
            if (differing == 0)
            {
                matches.Add(k);
            }
        }

        return matches;
    }

    /// <summary>The bytes the next boot starts from (file plus leftover journal), read the way <c>--snapshot</c> opens it: nothing is written.</summary>
    public static byte[] AsNextBootSeesIt(string path)
    {
        using var file = VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), path, snapshot: true);
        return file.Bytes;
    }

    /// <summary>Inode, mode, owner and group, from stat(1): what libvirt relies on staying the same.</summary>
    public static string Identity(string path)
    {
        var psi = new ProcessStartInfo("stat", ["-c", "%i %a %u %g", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return text;
    }

    /// <summary>A workload's code and erased vars images in fresh temporary files; the vars file gets mode 0640.</summary>
    public static (string Code, string Vars) WriteWorkload(FlashWorkload workload)
    {
        var (code, vars) = (CliRunner.TempFile("-code.fd"), CliRunner.TempFile("-vars.fd"));
        File.WriteAllBytes(code, workload.BuildCodeImage());
        File.WriteAllBytes(vars, workload.BuildVarsImage());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(vars, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        }
        return (code, vars);
    }

    public static void Delete(params string[] paths)
    {
        foreach (var p in paths)
        {
            File.Delete(p);
            File.Delete(VarstoreJournal.PathFor(p));
        }
    }
}
