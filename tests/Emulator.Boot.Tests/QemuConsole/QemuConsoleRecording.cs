using System.Security.Cryptography;

namespace Emulator.Boot.Tests.QemuConsole;

/// <summary>
/// QEMU 7.2's serial console for one firmware fixture, recorded by tools/record-qemu-console.py:
/// Data/qemu72-console/NAME.txt holds the bytes, NAME.info the images QEMU booted (relative to
/// firmware-fixtures/cache) with the command line, the QEMU version and the console's SHA-256.
/// The tests boot the images the .info names, so emu and QEMU always run the same thing.
/// </summary>
public sealed class QemuConsoleRecording
{
    private QemuConsoleRecording(string name, IReadOnlyDictionary<string, string> info, byte[] console)
    {
        Name = name;
        Info = info;
        Console = console;
    }

    public string Name { get; }

    /// <summary>The .info file's "key: value" lines.</summary>
    public IReadOnlyDictionary<string, string> Info { get; }

    public byte[] Console { get; }

    public static string Directory => System.IO.Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console");

    public static QemuConsoleRecording Load(string name)
    {
        string text = System.IO.Path.Combine(Directory, name + ".txt");
        string info = System.IO.Path.Combine(Directory, name + ".info");
        if (!File.Exists(text) || !File.Exists(info))
        {
            throw new InvalidOperationException($"no QEMU recording for {name} in {Directory}: run tools/record-qemu-console.py {name}");
        }

        var fields = File.ReadLines(info)
            .Where(l => !l.StartsWith('#') && l.Contains(": ", StringComparison.Ordinal))
            .Select(l => l.Split(": ", 2))
            .ToDictionary(p => p[0], p => p[1]);
        byte[] console = File.ReadAllBytes(text);

        // A checkout that rewrote line endings would fail every comparison for the wrong reason.
        string sha = Convert.ToHexStringLower(SHA256.HashData(console));
        if (sha != fields["console-sha256"])
        {
            throw new InvalidOperationException($"{text} has SHA-256 {sha}, its .info says {fields["console-sha256"]}: the file was altered (line endings?)");
        }

        return new QemuConsoleRecording(name, fields, console);
    }

    /// <summary>emu's options for the images QEMU booted: --code/--vars, or --firmware (each run on the pristine file with --snapshot, as QEMU ran on a fresh copy).</summary>
    public string[] ImageArguments()
    {
        if (Info.TryGetValue("firmware", out string? firmware))
        {
            return ["--firmware", Fixture(firmware, "firmware")];
        }

        return ["--code", Fixture(Info["code"], "code"), "--vars", Fixture(Info["vars"], "vars")];
    }

    /// <summary>
    /// emu's options for the machine QEMU ran: <c>--machine</c> from the .info's machine line,
    /// <c>--secure-flash</c> and <c>--disable-s3</c> from its -global options, <c>--cpu qemu32</c>
    /// for a qemu-system-i386 recording (its default CPU and 32-bit SMM save map).
    /// </summary>
    public string[] MachineArguments()
    {
        var args = new List<string>();
        if (Info.TryGetValue("machine", out string? machine))
        {
            args.AddRange(["--machine", machine]);
        }

        string globals = Info.GetValueOrDefault("globals", "");
        if (globals.Contains("cfi.pflash01,property=secure,value=on", StringComparison.Ordinal))
        {
            args.Add("--secure-flash");
        }

        if (globals.Contains("disable_s3=1", StringComparison.Ordinal))
        {
            args.Add("--disable-s3");
        }

        if (Info.GetValueOrDefault("binary") == "qemu-system-i386")
        {
            args.AddRange(["--cpu", "qemu32"]);
        }

        return [.. args];
    }

    /// <summary>The fixture's path, checked against the SHA-256 QEMU booted (a refetched, different build would make the comparison meaningless).</summary>
    private string Fixture(string relative, string role)
    {
        string path = Fixtures.Path(relative);
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
        if (sha != Info[role + "-sha256"])
        {
            throw new InvalidOperationException($"{path} has SHA-256 {sha}, but QEMU's recording of {Name} booted {Info[role + "-sha256"]}: re-record with tools/record-qemu-console.py {Name}");
        }

        return path;
    }
}
