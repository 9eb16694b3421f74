using System.Text;
using Iced.Intel;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>Where emu and QEMU first disagree on a case.</summary>
public sealed record Divergence(FuzzCase Case, string Engine, int Index, string Instruction, CpuState Expected, CpuState Actual, List<string> Fields)
{
    public string Report(string origin)
    {
        var text = new StringBuilder();
        text.AppendLine($"divergence ({Engine}) in {origin}, {Case.Mode}, after instruction {Index}: {Instruction}");
        foreach (string field in Fields)
        {
            text.AppendLine($"  {field}   (QEMU vs emu)");
        }

        text.AppendLine($"  QEMU: {Expected.Format(Case.Mode)}");
        text.AppendLine($"  emu:  {Actual.Format(Case.Mode)}");
        return text.ToString();
    }
}

/// <summary>
/// Runs a case under QEMU and under emu (interpreted one instruction at a time, then in whole
/// blocks interpreted and compiled) and returns the first divergence, or null. The states of
/// the stepped run are compared after every instruction (memory where QEMU's was read: after
/// instructions that write memory, an exception, the end); the whole-block runs' states at
/// each block end with QEMU's after as many instructions.
/// </summary>
public static class DifferentialFuzzer
{
    /// <summary>Single steps allowed per item (REP iterations are steps of their own in QEMU).</summary>
    private const int StepsPerItem = 16;

    /// <summary>This thread's emu machine, reset for every run (<see cref="EmuRunner.Load"/>).</summary>
    [ThreadStatic]
    private static EmuRunner? t_emu;

    public static Divergence? Check(FuzzCase fuzzCase) => Check(fuzzCase, out _);

    /// <summary>The case on <paramref name="qemuRunner"/>, or on a QEMU of its own when null.</summary>
    public static Divergence? Check(FuzzCase fuzzCase, out List<CpuState> qemu, QemuRunner? qemuRunner = null)
    {
        var sequence = fuzzCase.Encode();
        byte[] rom = RomImage.Build(fuzzCase, sequence);
        int maxSteps = 64 + StepsPerItem * fuzzCase.Items.Count;
        if (qemuRunner is { Logged: true } && qemuRunner.RunLogged(sequence, rom, maxSteps) is { } logged && Compare(fuzzCase, sequence, rom, logged) == null)
        {
            // Agreement with the logged states is agreement: a disagreement (or a case the log
            // cannot give) is decided by the stepped run below, which also reads memory after
            // every instruction that writes it.
            qemu = logged;
            return null;
        }

        qemu = qemuRunner != null ? qemuRunner.Run(sequence, rom, maxSteps) : QemuRunner.RunOnce(sequence, rom, maxSteps);
        return Compare(fuzzCase, sequence, rom, qemu);
    }

    /// <summary>emu against QEMU's recorded states (also what a regression file replays).</summary>
    public static Divergence? Compare(FuzzCase fuzzCase, EncodedSequence sequence, byte[] rom, IReadOnlyList<CpuState> qemu)
    {
        var emu = t_emu ??= new EmuRunner();
        emu.Load(rom, sequence);
        List<CpuState> stepped = emu.RunStepped(qemu.Count + 1);

        for (int i = 0; i < Math.Min(stepped.Count, qemu.Count); i++)
        {
            var fields = qemu[i].Differences(stepped[i], fuzzCase.Mode);
            if (fields.Count > 0)
            {
                ulong at = i == 0 ? qemu[0].Rip : qemu[i - 1].Rip;
                return new Divergence(fuzzCase, "interpreter, one instruction at a time", i, Describe(sequence, fuzzCase.Mode, i, at), qemu[i], stepped[i], fields);
            }
        }

        if (stepped.Count != qemu.Count)
        {
            int i = Math.Min(stepped.Count, qemu.Count) - 1;
            return new Divergence(fuzzCase, "interpreter, one instruction at a time", i, $"QEMU ran {qemu.Count - 1} instructions, emu {stepped.Count - 1}",
                qemu[i], stepped[i], [$"instruction count: {qemu.Count - 1} vs {stepped.Count - 1}"]);
        }

        emu.Load(rom, sequence);
        var (interpreted, compiled, allBlocksCompiled) = emu.RunCompiled(10_000);
        if (!allBlocksCompiled)
        {
            throw new InvalidOperationException($"the block compiler refused a block of the sequence ({emu.CompilerRefusal})");
        }

        foreach (var (engine, states) in new[] { ("interpreter, whole blocks", interpreted), ("block compiler", compiled) })
        {
            if (CompareBlockEnds(fuzzCase, sequence, engine, states, qemu) is { } divergence)
            {
                return divergence;
            }
        }

        return null;
    }

    /// <summary>
    /// A whole-block run against QEMU's states at each block end: after n retired instructions
    /// the state must be QEMU's after n; at the final HLT or an exception handler, QEMU's last
    /// (a faulting instruction retires in neither, but QEMU's step lands at the handler).
    /// </summary>
    private static Divergence? CompareBlockEnds(FuzzCase fuzzCase, EncodedSequence sequence, string engine,
        List<(long Retired, CpuState State)> states, IReadOnlyList<CpuState> qemu)
    {
        foreach (var (retired, blockEnd) in states)
        {
            bool last = blockEnd.Vector >= 0 || blockEnd.Rip == sequence.HltAddress;
            int index = last ? qemu.Count - 1 : (int)Math.Min(retired, qemu.Count - 1);
            var state = blockEnd;
            if (!last && index > 0 && sequence.MnemonicAt(qemu[index - 1].Rip) is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc)
            {
                // A block that ends right after a BT (at its 64-instruction limit) holds the
                // block-dependent undefined flags the generator's ADC otherwise redefines
                // (InstructionForms.RedefineFlagsFromCarry): only CF and the rest are compared.
                const ulong undefinedAfterBt = 0x8D4; // OF SF ZF AF PF
                state = blockEnd with { Flags = (blockEnd.Flags & ~undefinedAfterBt) | (qemu[index].Flags & undefinedAfterBt) };
            }

            var fields = qemu[index].Differences(state, fuzzCase.Mode);
            if (!last && retired >= qemu.Count - 1)
            {
                fields.Add($"emu is not at the end after {retired} instructions, QEMU ended after {qemu.Count - 1}");
            }

            if (fields.Count > 0)
            {
                string where = last ? "(final state)" : $"(end of a block, {retired} instructions retired)";
                return new Divergence(fuzzCase, engine, index, where, qemu[index], state, fields);
            }
        }

        return null;
    }

    private static string Describe(EncodedSequence sequence, FuzzMode mode, int index, ulong address) =>
        index == 0 ? "(start state)" : sequence.Disassemble(address, mode);

    /// <summary>Result of a campaign: instructions compared, cases run, divergences (each with its seed).</summary>
    public sealed record CampaignResult(long Instructions, int Cases, List<(int Seed, Divergence Divergence)> Divergences);

    /// <summary>
    /// Cases from consecutive seeds until <paramref name="instructions"/> instructions have been
    /// compared. <paramref name="shrink"/> reduces each divergence before it is listed. With
    /// <paramref name="jobs"/> above one, that many workers (each with its own QEMU and emu) take
    /// every jobs-th seed and an equal share of the instructions: the seeds run depend only on
    /// the settings, never on timing.
    /// </summary>
    public static CampaignResult Campaign(FuzzMode mode, int firstSeed, long instructions, int itemsPerCase, bool shrink, Action<string>? log = null, int jobs = 1, bool logged = false)
    {
        var results = new CampaignResult[jobs];
        var gate = new object();
        void Locked(string line)
        {
            lock (gate)
            {
                log?.Invoke(line);
            }
        }

        var progress = new CampaignProgress(mode, instructions, FuzzEnvironment.ProgressFile);
        Parallel.For(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = jobs }, worker =>
            results[worker] = Worker(mode, firstSeed + worker, jobs, (instructions + jobs - 1) / jobs, itemsPerCase, shrink, Locked, logged, progress));
        return new CampaignResult(results.Sum(r => r.Instructions), results.Sum(r => r.Cases),
            [.. results.SelectMany(r => r.Divergences).OrderBy(d => d.Seed)]);
    }

    /// <summary>QEMU exited with SIGFPE (status 136) single-stepping an IDIV: QEMU 7.2's host division of INT_MIN by -1.</summary>
    private static bool QemuDividedIntMinByMinusOne(IOException e) =>
        e.Message.Contains("(code 136) stepping", StringComparison.Ordinal) && e.Message.Contains(" idiv ", StringComparison.Ordinal);

    private static CampaignResult Worker(FuzzMode mode, int firstSeed, int seedStep, long instructions, int itemsPerCase, bool shrink, Action<string> log, bool logged, CampaignProgress progress)
    {
        long compared = 0;
        int cases = 0;
        var divergences = new List<(int, Divergence)>();
        var qemuRunner = new QemuRunner(logged);
        try
        {
            for (int seed = firstSeed; compared < instructions; seed += seedStep)
            {
                var fuzzCase = CaseGenerator.Generate(mode, seed, itemsPerCase);
                Divergence? divergence;
                List<CpuState> qemu;
                try
                {
                    divergence = Check(fuzzCase, out qemu, qemuRunner);
                }
                catch (IOException e) when (logged || QemuDividedIntMinByMinusOne(e))
                {
                    // QEMU died: the campaign goes on with a new one; a logged case runs again on
                    // a QEMU of its own, stepped, whose crash report names the instruction.
                    qemuRunner.Dispose();
                    qemuRunner = new QemuRunner(logged);
                    try
                    {
                        if (!logged)
                        {
                            throw;
                        }

                        log($"seed {seed}: {e.Message}; the case runs again stepped");
                        divergence = Check(fuzzCase, out qemu);
                    }
                    catch (IOException crash) when (QemuDividedIntMinByMinusOne(crash))
                    {
                        // No reference for this case: QEMU 7.2's helper_idivw_AX/helper_idivl_EAX
                        // divide INT_MIN by -1 on the host (SIGFPE), where hardware and emu raise #DE.
                        log($"seed {seed}: left out: QEMU 7.2 dies of SIGFPE on this IDIV of INT_MIN by -1");
                        continue;
                    }
                }

                compared += qemu.Count - 1;
                cases++;
                progress.Add(qemu.Count - 1, divergence != null);
                if (divergence != null)
                {
                    if (shrink)
                    {
                        divergence = Shrinker.Shrink(divergence, qemuRunner);
                    }

                    divergences.Add((seed, divergence));
                    log(divergence.Report($"seed {seed}"));
                }
            }
        }
        finally
        {
            qemuRunner.Dispose();
        }

        return new CampaignResult(compared, cases, divergences);
    }
}
