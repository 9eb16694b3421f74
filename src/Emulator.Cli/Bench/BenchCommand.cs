using System.Globalization;
using System.Text;
using System.Text.Json;
using Emulator.Hosting.Bench;
using Emulator.Hosting.Reporting;

namespace Emulator.Cli.Bench;

/// <summary>
/// <c>bench flash</c>: measures flash write throughput at the device (bus accesses, no CPU) and
/// at the guest (the <see cref="FlashWorkload"/> firmware run by the emulator), prints one line
/// per figure on stdout, and optionally writes them as JSON and the workload as flash images
/// for QEMU (benchmarks/qemu-flash-bench.sh). Exit status 0, or 2 for bad input.
/// </summary>
internal sealed class BenchCommand
{
    public const string CodeImageName = "flash-bench-code.fd";
    public const string VarsImageName = "flash-bench-vars.fd";

    /// <summary>The vars chip as the workload leaves it: what a run on QEMU must produce.</summary>
    public const string ExpectedVarsImageName = "flash-bench-vars.expected.fd";

    /// <summary>The SMM path's images (<c>--guest-path smm</c>), named apart so both can share a directory.</summary>
    public const string SmmCodeImageName = "flash-bench-smm-code.fd";
    public const string SmmVarsImageName = "flash-bench-smm-vars.fd";
    public const string SmmExpectedVarsImageName = "flash-bench-smm-vars.expected.fd";

    public const string SnapshotMode = "snapshot";
    public const string VarsFileMode = "vars-file";

    private readonly TextWriter _out;
    private readonly TextWriter _stderr;

    public BenchCommand(TextWriter output, TextWriter stderr)
    {
        _out = output;
        _stderr = stderr;
    }

    public int Run(BenchOptions o)
    {
        var workload = new FlashWorkload(o.RegionBytes, o.Passes, o.GuestPath, o.SmiBytes);
        ImagesInfo? images = null;
        if (o.WriteImage != null)
        {
            images = WriteImages(workload, o.WriteImage);
            _out.WriteLine($"images  {images.Code} ({images.CodeBytes} bytes), {images.Vars} ({images.VarsBytes} bytes), {images.ExpectedVars}: {Describe(workload)}");
        }

        try
        {
            var device = o.RunDevice ? RunDevice(o) : [];
            var guest = o.RunGuest ? RunGuest(o, workload) : [];
            if (o.Json != null)
            {
                var report = new BenchReport
                {
                    Tool = new ToolInfo("emu", typeof(BenchCommand).Assembly.GetName().Version?.ToString() ?? "0"),
                    Runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
                    ProcessorCount = Environment.ProcessorCount,
                    SecondsPerDeviceFigure = o.Seconds,
                    ChipBytes = o.ChipBytes,
                    FileDirectory = o.FileDirectory,
                    Device = device,
                    Guest = guest,
                    Images = images,
                };
                File.WriteAllText(o.Json, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }), new UTF8Encoding(false));
            }
        }
        catch (InvalidOperationException e)
        {
            // The guest did not finish, or a persisted file does not hold what the chip holds.
            _stderr.WriteLine($"emu: {e.Message}");
            return 1;
        }

        return 0;
    }

    private List<DeviceFigureInfo> RunDevice(BenchOptions o)
    {
        var figures = new List<DeviceFigureInfo>();
        var budget = TimeSpan.FromSeconds(o.Seconds);
        using (var bench = new FlashDeviceBench(o.ChipBytes))
        {
            foreach (var figure in new[] { bench.ByteProgram(budget), bench.BlockErase(budget), bench.BufferedWrite(budget) })
            {
                _out.WriteLine(Invariant($"device  {DeviceColumns(figure)}"));
                figures.Add(DeviceFigureInfo.From(figure, null));
            }
        }

        if (o.FileDirectory != null)
        {
            var (figure, cost, fileRate) = FlashDeviceBench.PersistedByteProgram(o.ChipBytes, budget, o.FileDirectory);
            var file = FileCostInfo.From(cost, fileRate);
            _out.WriteLine(Invariant($"file    {DeviceColumns(figure)}; {FileColumns(file)}"));
            figures.Add(DeviceFigureInfo.From(figure, file));
        }

        return figures;
    }

    private List<GuestFigureInfo> RunGuest(BenchOptions o, FlashWorkload workload)
    {
        var figures = new List<GuestFigureInfo>();
        foreach (var (mode, directory) in new[] { (SnapshotMode, null), (VarsFileMode, o.FileDirectory) })
        {
            if (mode == VarsFileMode && directory == null)
            {
                continue;
            }

            var g = FlashGuestBench.Run(workload, directory);
            var file = g.File is { } cost ? FileCostInfo.From(cost, cost.BytesPersisted / (g.Seconds + cost.DrainSeconds)) : null;
            string smm = workload.Path == FlashGuestPath.Smm
                ? Invariant($", {g.Smis} SMIs, {g.SmisPerSecond:F0} SMIs/s, {g.MicrosecondsPerSmi:F2} us/SMI, {g.SmmInstructions} instructions in SMM")
                : string.Empty;
            _out.WriteLine(Invariant(
                $"guest   {mode,-9} {Describe(workload)}: {g.BytesPerSecond / 1e6:F3} MB/s programmed, {g.InstructionsPerByte:F4} instructions/byte, {g.Instructions} instructions, {g.Mips:F1} MIPS, {g.Seconds:F3} s{smm}{(file != null ? "; " + FileColumns(file) : string.Empty)}"));
            figures.Add(GuestFigureInfo.From(mode, workload, g, file));
        }

        return figures;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string DeviceColumns(DeviceFigure f) => Invariant(
        $"{f.Name,-17} {f.OperationsPerSecond / 1e6,9:F3} M ops/s {f.NanosecondsPerOperation,9:F2} ns/op {f.BytesPerSecond / 1e6,9:F1} MB/s {f.OperationsPerCpuSecond / 1e6,9:F3} M ops/CPU-s {f.AllocatedBytesPerOperation,6:F2} B allocated/op");

    private static string FileColumns(FileCostInfo f) => Invariant(
        $"{f.BytesPersisted} bytes reached the file at {f.BytesPerSecond / 1e6:F3} MB/s, drained {f.DrainSeconds:F3} s after the last write, {f.Syncs} fsyncs");

    private static string Describe(FlashWorkload w) => w.Path == FlashGuestPath.Smm
        ? $"{w.RegionBytes} bytes x {w.Passes} passes through SMM, {w.SmiBytes} bytes/SMI"
        : $"{w.RegionBytes} bytes x {w.Passes} passes";

    private static ImagesInfo WriteImages(FlashWorkload workload, string directory)
    {
        Directory.CreateDirectory(directory);
        bool smm = workload.Path == FlashGuestPath.Smm;
        string code = Path.Combine(directory, smm ? SmmCodeImageName : CodeImageName);
        string vars = Path.Combine(directory, smm ? SmmVarsImageName : VarsImageName);
        var codeImage = workload.BuildCodeImage();
        string expected = Path.Combine(directory, smm ? SmmExpectedVarsImageName : ExpectedVarsImageName);
        var varsImage = workload.BuildVarsImage();
        var expectedImage = workload.BuildFinalVarsImage();
        File.WriteAllBytes(code, codeImage);
        File.WriteAllBytes(vars, varsImage);
        File.WriteAllBytes(expected, expectedImage);
        return new ImagesInfo(code, codeImage.Length, vars, varsImage.Length, expected, workload.RegionBytes, workload.Passes, BenchOptions.NameOf(workload.Path), smm ? workload.SmiBytes : null, smm ? workload.Smis : null);
    }
}
