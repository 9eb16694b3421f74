using Emulator.CpuFuzz.Tests.Fuzzer;

namespace Emulator.CpuFuzz.Tests;

/// <summary>
/// The logged QEMU run (EMU_CPU_FUZZ_QEMU=log, Fuzzer/QemuRunner.Logged.cs) gives the stepped
/// run's states: on the same QEMU, case after case, every state from the CPU log equals the
/// single-stepped one in every compared field (memory is read at the end only, and compared
/// there), and the case count stays the same. A campaign in log mode then agrees with emu.
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(HandlerTableCollection.Name)]
public sealed class QemuLogTests
{
    [Theory]
    [InlineData(FuzzMode.Long64)]
    [InlineData(FuzzMode.Protected32)]
    [InlineData(FuzzMode.Compatibility32)]
    [InlineData(FuzzMode.Real16)]
    public void LoggedStatesAreTheSteppedStates(FuzzMode mode)
    {
        FuzzEnvironment.RequireQemu();
        using var qemu = new QemuRunner(logged: true);
        int compared = 0, states = 0;
        for (int seed = 300; seed < 340; seed++)
        {
            var fuzzCase = CaseGenerator.Generate(mode, seed, FuzzEnvironment.ItemsPerCase);
            var sequence = fuzzCase.Encode();
            byte[] rom = RomImage.Build(fuzzCase, sequence);
            int maxSteps = 64 + 16 * fuzzCase.Items.Count;
            var logged = qemu.RunLogged(sequence, rom, maxSteps);
            var stepped = qemu.Run(sequence, rom, maxSteps);
            if (logged == null)
            {
                continue;
            }

            Assert.True(stepped.Count == logged.Count, $"seed {seed}: stepped RIPs {string.Join(",", stepped.Select(s => s.Rip.ToString("x")))}, logged {string.Join(",", logged.Select(s => s.Rip.ToString("x")))}");
            for (int i = 0; i < stepped.Count; i++)
            {
                var differences = stepped[i].Differences(logged[i], mode);
                Assert.True(differences.Count == 0, $"seed {seed}, state {i}: {string.Join("; ", differences)}");
            }

            Assert.NotNull(logged[^1].Memory);
            compared++;
            states += logged.Count;
        }

        // Nearly every case stops in time and within its steps; the rest go to the stepped run.
        Assert.True(compared >= 36, $"only {compared} of 40 cases were logged");
        Assert.True(states > 200, $"only {states} states compared");
    }

    [Fact]
    public void ALoggedCampaignAgreesWithEmu()
    {
        FuzzEnvironment.RequireQemu();
        var result = DifferentialFuzzer.Campaign(FuzzMode.Long64, 7000, 1500, FuzzEnvironment.ItemsPerCase, shrink: false, logged: true);
        Assert.True(result.Instructions >= 1500);
        Assert.Empty(result.Divergences);
    }
}
