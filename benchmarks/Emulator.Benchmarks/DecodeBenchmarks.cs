using BenchmarkDotNet.Attributes;
using Iced.Intel;

namespace Emulator.Benchmarks;

/// <summary>
/// What decoding costs: Iced decoding OVMF's own SEC code, instruction by instruction. Compared
/// with <see cref="InterpreterBenchmarks"/>, it shows why executed code is decoded once and run
/// from the block cache (performance.md: decoding every instruction caps an interpreter near
/// 30–40 MIPS).
/// </summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private byte[] _code = null!;
    private int _count;

    [GlobalSetup]
    public void Setup()
    {
        // The top 64 KiB of the 2 MB build: reset vector and SEC code (X64).
        var image = File.ReadAllBytes(Fixtures.Path("OVMF_CODE.fd"));
        _code = image.AsSpan(image.Length - 0x10000).ToArray();
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(_code));
        while (decoder.IP < (ulong)_code.Length - 16)
        {
            decoder.Decode(out _);
            _count++;
        }
    }

    [Benchmark]
    public int DecodeSecCode()
    {
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(_code));
        int n = 0;
        while (decoder.IP < (ulong)_code.Length - 16)
        {
            decoder.Decode(out var insn);
            n += insn.Length;
        }

        return n;
    }

    public int InstructionCount => _count;
}
