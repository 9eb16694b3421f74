using System.Globalization;
using System.Text;
using System.Text.Json;
using Emulator.Cli.Reporting;

namespace Emulator.Cli.Bench;

/// <summary>
/// <c>bench flash</c>: measures flash write throughput at the device (bus accesses, no CPU) and
/// at the guest (the <see cref="FlashWorkload"/> firmware run by the emulator), prints one line
/// per figure on stdout, and optionally writes them as JSON and the workload as flash images
/// for QEMU (benchmarks/qemu-flash-bench.sh). Exit status 0, or 2 for bad input.
/// </summary>
public sealed class BenchCommand
{
    public const string CodeImageName = "flash-bench-code.fd";
    public const string VarsImageName = "flash-bench-vars.fd";

    /// <summary>The vars chip as the workload leaves it: what a run on QEMU must produce.</summary>
    public const string ExpectedVarsImageName = "flash-bench-vars.expected.fd";

    private readonly TextWriter _out;
    private readonly TextWriter _stderr;

    public BenchCommand(TextWriter output, TextWriter stderr)
    {
        _out = output;
        _stderr = stderr;
    }

    public int Run(BenchOptions o)
    {
        var workload = new FlashWorkload(o.RegionBytes, o.Passes);
        ImagesInfo? images = null;
        if (o.WriteImage != null)
        {
            images = WriteImages(workload, o.WriteImage);
            _out.WriteLine($"images  {images.Code} ({images.CodeBytes} bytes), {images.Vars} ({images.VarsBytes} bytes), {images.ExpectedVars}: {Describe(workload)}");
        }

        var device = new List<DeviceFigureInfo>();
        if (o.RunDevice)
        {
            using var bench = new FlashDeviceBench(o.ChipBytes);
            var budget = TimeSpan.FromSeconds(o.Seconds);
            foreach (var figure in new[] { bench.ByteProgram(budget), bench.BlockErase(budget), bench.BufferedWrite(budget) })
            {
                _out.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"device  {figure.Name,-15} {figure.OperationsPerSecond / 1e6,9:F3} M ops/s {figure.NanosecondsPerOperation,9:F2} ns/op {figure.BytesPerSecond / 1e6,9:F1} MB/s {figure.OperationsPerCpuSecond / 1e6,9:F3} M ops/CPU-s {figure.AllocatedBytesPerOperation,6:F2} B allocated/op"));
                device.Add(DeviceFigureInfo.From(figure));
            }
        }

        GuestFigureInfo? guest = null;
        if (o.RunGuest)
        {
            GuestFigure g;
            try
            {
                g = FlashGuestBench.Run(workload);
            }
            catch (InvalidOperationException e)
            {
                _stderr.WriteLine($"emu: {e.Message}");
                return 1;
            }

            _out.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"guest   {Describe(workload)}: {g.BytesPerSecond / 1e6:F3} MB/s programmed, {g.InstructionsPerByte:F4} instructions/byte, {g.Instructions} instructions, {g.Mips:F1} MIPS, {g.Seconds:F3} s"));
            guest = GuestFigureInfo.From(workload, g);
        }

        if (o.Json != null)
        {
            var report = new BenchReport
            {
                Tool = new ToolInfo("emu", typeof(BenchCommand).Assembly.GetName().Version?.ToString() ?? "0"),
                Runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
                ProcessorCount = Environment.ProcessorCount,
                SecondsPerDeviceFigure = o.Seconds,
                ChipBytes = o.ChipBytes,
                Device = device,
                Guest = guest,
                Images = images,
            };
            File.WriteAllText(o.Json, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }), Encoding.UTF8);
        }

        return 0;
    }

    private static string Describe(FlashWorkload w) => $"{w.RegionBytes} bytes x {w.Passes} passes";

    private static ImagesInfo WriteImages(FlashWorkload workload, string directory)
    {
        Directory.CreateDirectory(directory);
        string code = Path.Combine(directory, CodeImageName);
        string vars = Path.Combine(directory, VarsImageName);
        var codeImage = workload.BuildCodeImage();
        string expected = Path.Combine(directory, ExpectedVarsImageName);
        var varsImage = workload.BuildVarsImage();
        var expectedImage = workload.BuildFinalVarsImage();
        File.WriteAllBytes(code, codeImage);
        File.WriteAllBytes(vars, varsImage);
        File.WriteAllBytes(expected, expectedImage);
        return new ImagesInfo(code, codeImage.Length, vars, varsImage.Length, expected, workload.RegionBytes, workload.Passes);
    }
}

/// <summary>The JSON written by <c>bench flash --json</c> (camelCase; README "Flash write throughput").</summary>
public sealed record BenchReport
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required ToolInfo Tool { get; init; }

    public required string Runtime { get; init; }

    public int ProcessorCount { get; init; }

    public double SecondsPerDeviceFigure { get; init; }

    public int ChipBytes { get; init; }

    public required IReadOnlyList<DeviceFigureInfo> Device { get; init; }

    public GuestFigureInfo? Guest { get; init; }

    public ImagesInfo? Images { get; init; }
}

public sealed record DeviceFigureInfo(string Name, long Operations, long Bytes, double Seconds, double CpuSeconds, double OperationsPerSecond, double OperationsPerCpuSecond, double BytesPerSecond, double NanosecondsPerOperation, double AllocatedBytesPerOperation)
{
    public static DeviceFigureInfo From(DeviceFigure f) =>
        new(f.Name, f.Operations, f.Bytes, f.Seconds, f.CpuSeconds, f.OperationsPerSecond, f.OperationsPerCpuSecond, f.BytesPerSecond, f.NanosecondsPerOperation, f.AllocatedBytesPerOperation);
}

public sealed record GuestFigureInfo(int RegionBytes, int Passes, long BytesProgrammed, long BlocksErased, long Instructions, double Seconds, double BytesPerSecond, double InstructionsPerByte, double Mips)
{
    public static GuestFigureInfo From(FlashWorkload w, GuestFigure g) =>
        new(w.RegionBytes, w.Passes, g.BytesProgrammed, g.BlocksErased, g.Instructions, g.Seconds, g.BytesPerSecond, g.InstructionsPerByte, g.Mips);
}

public sealed record ImagesInfo(string Code, int CodeBytes, string Vars, int VarsBytes, string ExpectedVars, int RegionBytes, int Passes);
