using System.Text;
using Emulator.Core.Cpu;
using Iced.Intel;

namespace Emulator.Core.Tests.Cpu.Coverage;

/// <summary>
/// docs/cpu-coverage.md, regenerated from the code: every Iced <see cref="Code"/> classified
/// against the qemu64 model (<see cref="ModelFeatures"/>) and the handler table
/// (<see cref="HandlerTable"/>). A form is <c>implemented</c> when a family registered a handler
/// that executes it, <c>#UD by design</c> when its handler is <see cref="Handlers.Invalid"/> or the
/// model lacks a CPUID feature it needs (QEMU 7.2 checks the feature and raises #UD, see the
/// document's notes), and <c>missing</c> when qemu64 has it but nothing implements it yet — each
/// such form must be named in <see cref="Pending"/> with the reason.
/// </summary>
internal static class CoverageTable
{
    public sealed record Row(string Group, string Status, string Qemu32, IReadOnlyList<Code> Codes);

    /// <summary>qemu64 forms not implemented yet, and why (the areas other work is filling).</summary>
    public static string? Pending(Code code)
    {
        return OtherPending.TryGetValue(code.Mnemonic(), out var why) ? why : null;
    }

    private static readonly Dictionary<Mnemonic, string> OtherPending = new()
    {
    };

    public static IReadOnlyList<Row> Build()
    {
        var rows = new Dictionary<(string Group, string Status, string Qemu32), List<Code>>();
        for (int c = 0; c < CodeCount.Value; c++)
        {
            var code = (Code)c;
            if (code == Code.INVALID)
            {
                continue;
            }

            var encoding = code.Encoding();
            if (IsPseudoOp(code))
            {
                continue;
            }

            string group = encoding == EncodingKind.Legacy ? code.Mnemonic().ToString() : $"({encoding} encoding)";
            string status = Status(code);
            string qemu32 = Qemu32(code);
            if (!rows.TryGetValue((group, status, qemu32), out var list))
            {
                rows[(group, status, qemu32)] = list = [];
            }

            list.Add(code);
        }

        return rows.Select(kv => new Row(kv.Key.Group, kv.Key.Status, kv.Key.Qemu32, kv.Value))
            .OrderBy(r => r.Group.StartsWith('(') ? 1 : 0).ThenBy(r => r.Group, StringComparer.Ordinal).ThenBy(r => r.Status, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Forms whose CPUID feature qemu64 lacks but QEMU 7.2 still executes, as something else or
    /// without the check (translate.c; docs/cpu.md and Hints.cs): what it runs them as.
    /// </summary>
    public static string? RunsAnyway(Code code) => code.Mnemonic() switch
    {
        Mnemonic.Lzcnt => "run as BSR: QEMU ignores F3 without ABM",
        Mnemonic.Tzcnt => "run as BSF: QEMU ignores F3 without BMI1",
        Mnemonic.Prefetch or Mnemonic.Prefetchw or Mnemonic.Prefetchwt1 => "a NOP: QEMU decodes 0F 0D without a CPUID check",
        Mnemonic.Prefetchit0 or Mnemonic.Prefetchit1 or Mnemonic.Cldemote or Mnemonic.Endbr32 or Mnemonic.Endbr64
            or Mnemonic.Rdsspd or Mnemonic.Rdsspq => "a NOP: QEMU's 0F 18..1F hint space",
        Mnemonic.Incsspd or Mnemonic.Incsspq or Mnemonic.Umonitor or Mnemonic.Umwait or Mnemonic.Tpause => "a fence: QEMU switches 0F AE on the ModRM byte only",
        Mnemonic.Rdpmc => "QEMU decodes it without a CPUID check: #GP(0) above CPL 0 without CR4.PCE, the SVM intercept, then #UD (helper_rdpmc)",
        _ => null,
    };

    /// <summary>
    /// Codes emu's decoder (Iced with <see cref="DecoderOptions.None"/>) never produces, whatever a
    /// family registered for their mnemonic: the bytes decode as something else or as invalid (#UD).
    /// </summary>
    private static string? NeverDecoded(Code code) => code switch
    {
        Code.Cmpxchg486_rm8_r8 or Code.Cmpxchg486_rm16_r16 or Code.Cmpxchg486_rm32_r32 => "0F A6/A7 are CMPXCHG only with Iced's Cmpxchg486A option",
        Code.Mov_r32_tr or Code.Mov_tr_r32 => "0F 24/26 are MOV to/from test registers only with Iced's MovTr option",
        Code.Popw_CS => "0F is the two-byte escape, POP CS only on the 8086",
        _ => null,
    };

    /// <summary>Iced's assembler directives (db/dw/dd/dq) and zero-byte marker: codes, not instructions.</summary>
    private static bool IsPseudoOp(Code code) =>
        code is Code.DeclareByte or Code.DeclareWord or Code.DeclareDword or Code.DeclareQword or Code.Zero_bytes;

    public static string Status(Code code)
    {
        var lacks = ModelFeatures.Missing(CpuModel.Qemu64, code).ToList();
        if (HandlerTable.IsImplemented(code))
        {
            if (!HandlerTable.RaisesUdByDesign(code))
            {
                if (lacks.Count == 0)
                {
                    return "implemented";
                }

                if (NeverDecoded(code) is { } never)
                {
                    return $"#UD by design (never decoded: {never})";
                }

                return RunsAnyway(code) is { } how
                    ? $"implemented ({how}; qemu64 lacks {Names(lacks)})"
                    : $"implemented although qemu64 lacks {Names(lacks)}";
            }

            return lacks.Count > 0 ? $"#UD by design (qemu64 lacks {Names(lacks)})" : "#UD by design (QEMU 7.2 rejects this form)";
        }

        if (lacks.Count > 0)
        {
            return $"#UD by design (qemu64 lacks {Names(lacks)})";
        }

        return Pending(code) is { } why ? $"missing ({why})" : "missing";
    }

    /// <summary>Where qemu32 (qemu-system-i386's default) differs: a form qemu64 has that qemu32 lacks, outside 64-bit-only forms.</summary>
    private static string Qemu32(Code code)
    {
        var features = code.CpuidFeatures();
        if (features.Contains(CpuidFeature.X64) || !ModelFeatures.Valid(CpuModel.Qemu64, code))
        {
            return "";
        }

        var lacks = ModelFeatures.Missing(CpuModel.Qemu32, code).ToList();
        return lacks.Count == 0 ? "" : $"lacks {Names(lacks)}";
    }

    private static string Names(IEnumerable<CpuidFeature> features) => string.Join(", ", features);

    public static string Markdown()
    {
        var rows = Build();
        var sb = new StringBuilder();
        sb.Append(Header);
        int implemented = 0, ud = 0, missing = 0;
        foreach (var row in rows)
        {
            if (row.Status.StartsWith("implemented", StringComparison.Ordinal))
            {
                implemented += row.Codes.Count;
            }
            else if (row.Status.StartsWith("#UD", StringComparison.Ordinal))
            {
                ud += row.Codes.Count;
            }
            else
            {
                missing += row.Codes.Count;
            }
        }

        sb.Append($"Totals: {implemented} forms implemented, {ud} #UD by design, {missing} missing.\n\n");
        sb.Append("| mnemonic | qemu64 | qemu32 differs | forms (Iced `Code`) |\n|---|---|---|---|\n");
        foreach (var row in rows)
        {
            string forms = row.Group.StartsWith('(') ? $"{row.Codes.Count} forms" : string.Join(", ", row.Codes.Select(c => $"`{c}`"));
            sb.Append($"| {row.Group} | {row.Status} | {row.Qemu32} | {forms} |\n");
        }

        return sb.ToString();
    }

    private const string Header = """
        # CPU coverage: every x86 encoding against QEMU 7.2's qemu64

        Generated by `CoverageTableTests` (tests/Emulator.Core.Tests/Cpu/Coverage) from Iced's opcode
        table (`Code`, its CPUID features and encoding) and emu's handler table; do not edit by hand.
        Regenerate with `EMU_UPDATE_COVERAGE=1 dotnet test tests/Emulator.Core.Tests -c Release --filter
        "FullyQualifiedName~CoverageTableTests"`. The test fails when this file is stale and when a form
        qemu64 has is neither implemented nor explained.

        - **implemented**: a handler executes the form (which may be QEMU's reading of it: LZCNT and
          TZCNT run as BSR and BSF because qemu64 has neither ABM nor BMI1, the 0F 0D and 0F 18..1F
          hint space runs as NOPs; see docs/cpu.md and Hints.cs).
        - **#UD by design**: qemu64 lacks a CPUID feature the form needs (QEMU 7.2's translator checks
          the feature bit — `has_cpuid_feature` in decode-new.c.inc for the SSE/AVX space, explicit
          `cpuid_*_features` tests in translate.c for the rest — and raises #UD), or QEMU rejects the
          form itself. VEX, EVEX, XOP, MVEX and 3DNow! forms are all here: qemu64 has no AVX, XOP or
          3DNow!. Such a form reaches `Handlers.Unimplemented` or `Handlers.Invalid`, both #UD.
        - **missing**: qemu64 has the form and emu does not implement it yet; the reason names the work
          in progress.
        - **qemu32 differs**: qemu-system-i386's default model lacks a feature the form needs (emu
          runs IA32 firmware with the qemu32 model).

        Features are read from `CpuModel`'s CPUID answers (docs/qemu64-cpuid.md). One row per
        mnemonic and status; the non-legacy encodings are counted per encoding. Iced's assembler
        directives (`DeclareByte`…`DeclareQword`, `Zero_bytes`) are codes but no instructions and are left out.


        """;
}
