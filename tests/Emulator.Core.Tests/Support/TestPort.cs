using System.Text;
using Emulator.Core.Cpu;
using Emulator.Core.Io;

namespace Emulator.Core.Tests.Support;

/// <summary>Port 0xE9 collects bytes (guest "printf"); port 0xF4 records an exit code and stops the run.</summary>
public sealed class TestPort(global::Emulator.Core.Cpu.Cpu cpu) : IPortDevice
{
    private readonly StringBuilder _text = new();

    internal global::Emulator.Core.Cpu.Cpu Cpu { get; } = cpu;

    public string Name => "test-port";

    public string Text => _text.ToString();

    public List<byte> Bytes { get; } = [];

    public int? ExitCode { get; private set; }

    public IPortDevice ExitPort => new Exit(this);

    public uint Read(ushort offset, int size) => 0;

    public void Write(ushort offset, int size, uint value)
    {
        Bytes.Add((byte)value);
        _text.Append((char)(byte)value);
    }

    private sealed class Exit(TestPort owner) : IPortDevice
    {
        public string Name => "test-exit";

        public uint Read(ushort offset, int size) => 0;

        public void Write(ushort offset, int size, uint value)
        {
            owner.ExitCode = (int)value;
            owner.Cpu.RequestStop(StopReason.Requested, $"test exit {value}");
        }
    }
}
