namespace Emulator.Storage.Tests;

/// <summary>
/// QEMU's own tools make the qcow2 images the reader is tested on (qemu-utils: qemu-img,
/// qemu-io; .ci/run installs it). Without them the tests fail, naming the package.
/// </summary>
public static class QemuImg
{
    /// <summary>Runs qemu-img with <paramref name="args"/>; a failure fails the test with its output.</summary>
    public static string Run(params string[] args) => HostTool.Run("qemu-img", "qemu-utils", args);

    /// <summary>Runs qemu-io's commands (each a -c) on a qcow2 image.</summary>
    public static string Io(string image, params string[] commands) =>
        HostTool.Run("qemu-io", "qemu-utils", ["-f", "qcow2", .. commands.SelectMany(c => new[] { "-c", c }), image]);
}
