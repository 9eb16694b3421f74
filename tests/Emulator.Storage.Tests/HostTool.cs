using System.Diagnostics;
using System.Text;

namespace Emulator.Storage.Tests;

/// <summary>
/// Runs an independent implementation the storage tests check emu against (mtools, dosfstools,
/// qemu-utils; .ci/run installs them). A missing tool fails the test naming its package; a tool
/// that fails fails the test with its output.
/// </summary>
public static class HostTool
{
    /// <summary>Runs <paramref name="tool"/> and returns its standard output; <paramref name="package"/> names what installs it.</summary>
    public static string Run(string tool, string package, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(tool, args) { RedirectStandardOutput = true, RedirectStandardError = true, StandardOutputEncoding = Encoding.UTF8 };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException($"'{tool}' is not installed: apt-get install {package} (.ci/run installs it)");
        }

        using (p)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"{tool} {string.Join(' ', psi.ArgumentList)} exited {p.ExitCode}: {stdout} {stderr.Result}");
            return stdout;
        }
    }
}
