using Emulator.CpuFuzz.Tests.Fuzzer;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// The campaign's settings: CI's short fixed-seed run by default; the environment variables
/// EMU_CPU_FUZZ_INSTRUCTIONS (instructions per mode), EMU_CPU_FUZZ_SEED (first seed),
/// EMU_CPU_FUZZ_SHRINK=1 (shrink each divergence), EMU_CPU_FUZZ_OUT (a folder that receives a
/// regression file per divergence) and EMU_CPU_FUZZ_JOBS (parallel workers, each with its own
/// QEMU; default 1) turn it into a long campaign; EMU_CPU_FUZZ_QEMU=log takes QEMU's states
/// from its CPU log instead of single steps (about twice the instructions per second).
/// </summary>
internal static class FuzzEnvironment
{
    public const long ShortCampaignInstructions = 3000;
    public const int ShortCampaignSeed = 1;
    public const int ItemsPerCase = 48;

    public static long Instructions => long.TryParse(Environment.GetEnvironmentVariable("EMU_CPU_FUZZ_INSTRUCTIONS"), out long n) ? n : ShortCampaignInstructions;

    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("EMU_CPU_FUZZ_SEED"), out int n) ? n : ShortCampaignSeed;

    public static int Jobs => int.TryParse(Environment.GetEnvironmentVariable("EMU_CPU_FUZZ_JOBS"), out int n) && n > 0 ? Math.Min(n, 64) : 1;

    /// <summary>EMU_CPU_FUZZ_QEMU=log: QEMU's states from its CPU log, stepped only where emu disagrees (QemuRunner.Logged.cs).</summary>
    public static bool QemuLogged => Environment.GetEnvironmentVariable("EMU_CPU_FUZZ_QEMU") == "log";

    public static bool Shrink => Environment.GetEnvironmentVariable("EMU_CPU_FUZZ_SHRINK") == "1";

    public static string? OutputFolder => Environment.GetEnvironmentVariable("EMU_CPU_FUZZ_OUT");

    /// <summary>EMU_CPU_FUZZ_PROGRESS: a file a long campaign appends a line to every 100,000 instructions (xunit shows output only at the end).</summary>
    public static string? ProgressFile => Environment.GetEnvironmentVariable("EMU_CPU_FUZZ_PROGRESS");

    /// <summary>Fails the test (never skips it) when QEMU 7.2 cannot be run.</summary>
    public static void RequireQemu()
    {
        string? reason = QemuRunner.Unavailable();
        Assert.True(reason == null, $"the CPU fuzzer needs QEMU 7.2 as its reference: {reason}");
    }
}
