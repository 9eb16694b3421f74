using Emulator.Core.Devices.CfiFlash;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Devices.Flash;

/// <summary>
/// One test per rule of the cfi01 state machine in docs/qemu-pflash.md, driven through
/// bus accesses as OVMF's QemuFlashFvbServicesRuntimeDxe drives the chip.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CfiFlashTests : IDisposable
{
    private const ulong VarsSize = 0x20000;
    private const ulong Block = 0x2000;

    private readonly PcMachine _machine;
    private readonly FlashDriver _vars;
    private readonly FlashDriver _code;

    public CfiFlashTests()
    {
        _machine = Machine(0x1E0000, VarsSize);
        _code = new FlashDriver(_machine, 0);
        _vars = new FlashDriver(_machine, 1);
    }

    public void Dispose() => _machine.Dispose();

    /// <summary>A 2 MB pair: a read-only code chip of 0xA5 bytes, a varstore erased except a marker at 0x10.</summary>
    private static PcMachine Machine(ulong codeSize, ulong varsSize)
    {
        var code = new byte[codeSize];
        code.AsSpan().Fill(0xA5);
        var vars = new byte[varsSize];
        vars.AsSpan().Fill(0xFF);
        vars[0x10] = 0x8D;
        vars[Block] = 0x11;
        vars[Block + 1] = 0x22;
        return new PcMachine(new MachineOptions
        {
            RamSize = 16UL << 20,
            Flash = [new("code", code, true), new("vars", vars, false)],
        });
    }

    [Fact]
    public void OvmfDetectionProbeFindsFlash()
    {
        Assert.Equal(ProbeResult.Flash, _vars.ProbeAsOvmf());
        Assert.True(_vars.Chip.ArrayMode);
        Assert.Equal(0x8D, _vars.ReadByte(0x10));
    }

    [Fact]
    public void OvmfDetectionProbeFindsTheReadOnlyCodeChipToo()
    {
        // The code chip is a full device on QEMU (readonly=on only refuses program and erase).
        Assert.Equal(ProbeResult.Flash, _code.ProbeAsOvmf());
    }

    [Fact]
    public void OvmfProgramSequenceStoresBytesAndEndsInReadArray()
    {
        byte[] data = [0x55, 0xAA, 0x00, 0x7F];
        _vars.ProgramAsOvmf(0x100, data);
        Assert.True(_vars.Chip.ArrayMode);
        Assert.Equal(data, _vars.Chip.Contents.Slice(0x100, 4).ToArray());
        Assert.Equal(4, _vars.Chip.BytesProgrammed);
    }

    [Fact]
    public void OvmfEraseSequenceErasesTheBlockAndKeepsReturningStatus()
    {
        _vars.EraseAsOvmf(Block);
        Assert.Equal(FlashStatus.Ready, _vars.ReadByte(Block));         // no 0xFF: status
        Assert.Equal(FlashStatus.Ready, _vars.ReadByte(Block + 0x123)); // at any offset
        _vars.ReadArrayMode();
        Assert.Equal(0xFF, _vars.ReadByte(Block));
        Assert.Equal(1, _vars.Chip.BlocksErased);
    }

    [Theory]
    [InlineData(FlashCommand.ReadArrayZero)]
    [InlineData(FlashCommand.ReadArrayAmd)]
    [InlineData(FlashCommand.ReadArray)]
    public void ReadArrayCommandsReturnToPlainMemoryReads(byte command)
    {
        _vars.Command(0, FlashCommand.ReadStatus);
        Assert.False(_vars.Chip.ArrayMode);
        Assert.False(_machine.Bus.Find(_vars.Base).ReadsDirect);
        _vars.Command(0x40, command);
        Assert.True(_vars.Chip.ArrayMode);
        Assert.True(_machine.Bus.Find(_vars.Base).ReadsDirect); // the fast path, not the device
        Assert.Equal(0x8D, _vars.ReadByte(0x10));
    }

    [Theory]
    [InlineData(FlashCommand.SingleProgram, 1, 0x5AUL)]
    [InlineData(FlashCommand.SingleProgramAlt, 2, 0x1234UL)]
    [InlineData(FlashCommand.SingleProgram, 4, 0xDEADBEEFUL)]
    public void ProgramStoresTheValueOfTheAccessWidth(byte setup, int width, ulong value)
    {
        _vars.Program(0x300, width, value, setup);
        _vars.ReadArrayMode();
        Assert.Equal(value, _vars.Read(0x300, width));
        Assert.Equal(0xFF, _vars.ReadByte(0x300 + (ulong)width)); // nothing beyond the width
    }

    [Fact]
    public void ProgramDoesNotEnforceOneToZero()
    {
        // NOR can only clear bits; QEMU stores the value as is, so 0x11 over 0x00 reads 0x11.
        _vars.Program(0x300, 1, 0x00);
        _vars.Program(0x300, 1, 0x11);
        _vars.ReadArrayMode();
        Assert.Equal(0x11, _vars.ReadByte(0x300));
    }

    [Fact]
    public void FinishedProgramKeepsReturningStatusUntilReadArray()
    {
        _vars.Program(0x300, 1, 0x42);
        Assert.Equal(FlashStatus.Ready, _vars.ReadByte(0x300));
        Assert.Equal(FlashStatus.Ready, _vars.ReadByte(0x1000));
        _vars.ReadArrayMode();
        Assert.Equal(0x42, _vars.ReadByte(0x300));
    }

    [Fact]
    public void BlockEraseTakesEffectOnTheSetupWrite()
    {
        _vars.Command(Block + 0x7FF, FlashCommand.BlockErase);
        Assert.Equal(0xFF, _vars.Chip.Contents[(int)Block]);       // before any confirm
        Assert.Equal(0xFF, _vars.Chip.Contents[(int)Block + 1]);
        Assert.Equal(0x8D, _vars.Chip.Contents[0x10]);             // other sectors untouched
        _vars.Command(Block, FlashCommand.ReadArray);              // 0xFF in cycle 1: read array
        Assert.True(_vars.Chip.ArrayMode);
        Assert.Equal(0xFF, _vars.ReadByte(Block));
    }

    [Fact]
    public void BlockEraseWithAnInvalidConfirmReturnsToReadArrayStillErased()
    {
        _vars.Command(Block, FlashCommand.BlockErase);
        _vars.Command(Block, 0x55);
        Assert.True(_vars.Chip.ArrayMode);
        Assert.Equal(0xFF, _vars.ReadByte(Block));
    }

    [Fact]
    public void ClearStatusLeavesZeroAndReturnsToReadArray()
    {
        _vars.ClearStatus();
        Assert.True(_vars.Chip.ArrayMode);
        Assert.Equal(0x8D, _vars.ReadByte(0x10));
        Assert.Equal(FlashStatus.Cleared, _vars.ReadStatus());
    }

    [Theory]
    [InlineData(1, 0x80UL)]
    [InlineData(2, 0x0080UL)]
    [InlineData(4, 0x00800080UL)]
    [InlineData(8, 0x0080008000800080UL)] // QEMU splits it into two 4-byte reads
    public void ReadStatusReplicatesAcrossTheAccessWidthAtAnyOffset(int width, ulong expected)
    {
        _vars.Command(0x10, FlashCommand.ReadStatus);
        Assert.Equal(expected, _vars.Read(0x10, width));
        Assert.Equal(expected, _vars.Read(0x1FF01, width));
    }

    [Fact]
    public void ReadStatusStaysInCycleZero()
    {
        _vars.Command(0, FlashCommand.ReadStatus);
        _vars.Program(0x300, 1, 0x42); // the next write is a command, not data
        _vars.ReadArrayMode();
        Assert.Equal(0x42, _vars.ReadByte(0x300));
    }

    [Fact]
    public void IdentifierModeReadsZeroEverywhereUntilReadArray()
    {
        _vars.Command(0, FlashCommand.ReadIdentifier);
        Assert.Equal(0UL, _vars.Read(0, 1));
        Assert.Equal(0UL, _vars.Read(1, 1));
        Assert.Equal(0UL, _vars.Read(0x100, 4));
        Assert.Equal(0UL, _vars.Read(0x10, 2));
        _vars.ReadArrayMode();
        Assert.Equal(0x8D, _vars.ReadByte(0x10));
    }

    [Fact]
    public void CfiQueryTableByteForByte()
    {
        var expected = new byte[0x52];
        "QRY"u8.CopyTo(expected.AsSpan(0x10));
        byte[] fixedPart = [0x01, 0x00, 0x31, 0x00, 0, 0, 0, 0, 0x45, 0x55, 0, 0, 0x07, 0x07, 0x0A, 0x00, 0x04, 0x04, 0x04, 0x00];
        fixedPart.CopyTo(expected.AsSpan(0x13));
        expected[0x27] = 17;                         // 128 KiB = 2^17
        expected[0x28] = 0x02;
        expected[0x2A] = 0x08;                       // 256-byte write buffer
        expected[0x2C] = 0x01;
        expected[0x2D] = 0x1F;                       // 32 blocks - 1
        expected[0x2F] = 0x10;                       // 4096-byte blocks
        "PRI10"u8.CopyTo(expected.AsSpan(0x31));
        expected[0x3F] = 0x01;

        _vars.Command(0, FlashCommand.CfiQuery);
        for (ulong i = 0; i < 0x100; i++)
        {
            Assert.Equal(i < 0x52 ? expected[i] : 0, _vars.ReadByte(i));
            Assert.Equal(i < 0x52 ? expected[i] : 0UL, _vars.Read(0x1000 + i, 4)); // offset & 0xFF, zero-extended
        }

        Assert.Equal((ulong)'Q', _vars.Read(0x110, 2));
    }

    [Fact]
    public void CfiQuerySizeByteIsTrailingZerosOfTheSize()
    {
        // QEMU quirk: ctz of the size, so the 4 MB build's 0x84000 varstore reports 2^14 bytes.
        using var m = Machine(0x37C000, 0x84000);
        var vars = new FlashDriver(m, 1);
        vars.Command(0, FlashCommand.CfiQuery);
        Assert.Equal(14, vars.ReadByte(0x27));
        Assert.Equal(0x83UL, vars.Read(0x2D, 1)); // 0x84 blocks - 1
        Assert.Equal(0UL, vars.Read(0x2E, 1));
    }

    [Fact]
    public void OnlyReadArrayLeavesQueryMode()
    {
        _vars.Command(0, FlashCommand.CfiQuery);
        foreach (byte ignored in new byte[] { FlashCommand.ReadArrayZero, FlashCommand.ReadArrayAmd, FlashCommand.ClearStatus, FlashCommand.SingleProgram, 0x42 })
        {
            _vars.Command(0x300, ignored);
            Assert.Equal((byte)'Q', _vars.ReadByte(0x10));
        }

        Assert.Equal(0xFF, _vars.Chip.Contents[0x300]);
        _vars.ReadArrayMode();
        Assert.Equal(0x8D, _vars.ReadByte(0x10));
    }

    [Fact]
    public void WriteToBufferCommitsCountPlusOneWritesOnConfirm()
    {
        // Count 0x102 is masked to 8 bits: 2, meaning three writes.
        _vars.BufferedWrite(0x410, 0x102, [(0x400, 1, 0x01), (0x480, 2, 0x0302), (0x4FC, 4, 0x07060504)]);
        Assert.Equal(FlashStatus.Ready, _vars.ReadByte(0));
        _vars.ReadArrayMode();
        Assert.Equal(0x01, _vars.ReadByte(0x400));
        Assert.Equal(0x0302UL, _vars.Read(0x480, 2));
        Assert.Equal(0x07060504UL, _vars.Read(0x4FC, 4));
        Assert.Equal(0xFF, _vars.ReadByte(0x401));
    }

    [Fact]
    public void WriteToBufferDataBeforeConfirmIsNotInTheArray()
    {
        _vars.Command(0x400, FlashCommand.WriteToBuffer);
        _vars.Write(0x400, 1, 0);
        _vars.Write(0x400, 1, 0x12);
        Assert.Equal(0xFF, _vars.Chip.Contents[0x400]);
        Assert.Equal(FlashStatus.Ready, _vars.ReadByte(0x400));
    }

    [Fact]
    public void WriteToBufferOutsideTheWindowSetsProgramErrorAndDropsTheBuffer()
    {
        // 0x4FE with 4 bytes crosses the window's end: outside.
        _vars.BufferedWrite(0x400, 1, [(0x400, 1, 0x01), (0x4FE, 4, 0x05040302)]);
        Assert.True(_vars.Chip.ArrayMode);
        Assert.Equal(0xFF, _vars.ReadByte(0x400));
        Assert.Equal(FlashStatus.Ready | FlashStatus.ProgramError, _vars.ReadStatus());
    }

    [Fact]
    public void WriteToBufferWithoutConfirmDropsTheBuffer()
    {
        _vars.BufferedWrite(0x400, 0, [(0x400, 1, 0x01)], confirm: FlashCommand.ReadArray);
        Assert.True(_vars.Chip.ArrayMode);
        Assert.Equal(0xFF, _vars.ReadByte(0x400));
    }

    [Fact]
    public void WriteToBufferIsRefusedWhileAProgramErrorIsSticky()
    {
        _vars.BufferedWrite(0x400, 0, [(0x500, 1, 0x01)]);              // error, dropped
        _vars.BufferedWrite(0x400, 0, [(0x400, 1, 0x01)]);              // in window, still refused
        Assert.Equal(0xFF, _vars.Chip.Contents[0x400]);
        _vars.ClearStatus();
        _vars.BufferedWrite(0x400, 0, [(0x400, 1, 0x01)]);
        Assert.Equal(0x01, _vars.Chip.Contents[0x400]);
    }

    [Theory]
    [InlineData(FlashCommand.Confirm)]
    [InlineData(FlashCommand.LockBlock)]
    public void LockSetupIsAcknowledgedWithoutLocking(byte second)
    {
        _vars.ClearStatus();
        _vars.Command(Block, FlashCommand.LockSetup);
        _vars.Command(Block, second);
        Assert.Equal(FlashStatus.Ready, _vars.ReadByte(Block)); // status, ready again
        _vars.Program(Block, 1, 0x33);                          // no real lock
        _vars.ReadArrayMode();
        Assert.Equal(0x33, _vars.ReadByte(Block));
    }

    [Fact]
    public void LockSetupWithAnyOtherByteReturnsToReadArray()
    {
        _vars.Command(Block, FlashCommand.LockSetup);
        _vars.Command(Block, 0x55);
        Assert.True(_vars.Chip.ArrayMode);
        Assert.Equal(0x11, _vars.ReadByte(Block));
    }

    [Theory]
    [InlineData(0x28)]
    [InlineData(0x55)]
    [InlineData(FlashCommand.Confirm)]
    public void InvalidCommandsReturnToReadArray(byte command)
    {
        _vars.Command(0, FlashCommand.ReadStatus);
        _vars.Command(Block, command);
        Assert.True(_vars.Chip.ArrayMode);
        Assert.Equal(0x11, _vars.ReadByte(Block));
    }

    [Fact]
    public void ErrorBitsStayUntilClearStatus()
    {
        _code.Program(0, 1, 0x00);
        _code.Command(0, FlashCommand.LockSetup);
        _code.Command(0, FlashCommand.Confirm);
        _code.ReadArrayMode();
        Assert.Equal(FlashStatus.Ready | FlashStatus.ProgramError, _code.ReadStatus());
        _code.ClearStatus();
        Assert.Equal(FlashStatus.Cleared, _code.ReadStatus());
    }

    [Fact]
    public void ErrorBitsStayUntilReset()
    {
        _code.Command(0, FlashCommand.BlockErase);
        _code.ReadArrayMode();
        Assert.Equal(FlashStatus.Ready | FlashStatus.EraseError, _code.ReadStatus());
        _machine.Reset();
        Assert.True(_code.Chip.ArrayMode);
        Assert.Equal(FlashStatus.Ready, _code.ReadStatus());
    }

    [Fact]
    public void ReadOnlyChipRefusesProgramEraseAndBufferedWrites()
    {
        byte[] before = _code.Chip.Contents.ToArray();
        _code.Program(0x10, 4, 0);
        Assert.Equal(0x90, _code.ReadByte(0x10));
        _code.ClearStatus();
        _code.EraseAsOvmf(0);
        Assert.Equal(0xA0, _code.ReadByte(0));
        _code.ClearStatus();
        _code.BufferedWrite(0, 0, [(0, 1, 0)]);
        Assert.Equal(0x90, _code.ReadByte(0));
        _code.ReadArrayMode();
        Assert.Equal(0xA5, _code.ReadByte(0));
        Assert.True(before.AsSpan().SequenceEqual(_code.Chip.Contents));
        Assert.Equal(0, _code.Chip.BytesProgrammed);
        Assert.Equal(0, _code.Chip.BlocksErased);
    }

    [Fact]
    public void EightByteWriteIsTwoWriteCycles()
    {
        // QEMU splits it: the low half is the program setup, the high half its data.
        _vars.Write(0x300, 8, 0x0000_0042_0000_0010);
        _vars.ReadArrayMode();
        Assert.Equal(0x42UL, _vars.Read(0x304, 4));
        Assert.Equal(0xFF, _vars.ReadByte(0x300));
    }

    [Fact]
    public void ProgramChangesAreReportedForCodeCacheAndPersistence()
    {
        var changes = new RecordingListener();
        _vars.Chip.AddListener(changes);
        _vars.Program(0x300, 2, 0x1234);
        _vars.EraseAsOvmf(Block);
        _vars.BufferedWrite(0x400, 1, [(0x404, 1, 1), (0x410, 1, 2)]);
        _code.Program(0x300, 1, 0x00);
        Assert.Equal(
            [(FlashWriteKind.Program, 0x300UL, 2), (FlashWriteKind.Erase, Block, 4096), (FlashWriteKind.Program, 0x404UL, 13)],
            changes.Writes);
    }

    [Fact]
    public void EveryListenerIsToldInOrder()
    {
        var first = new RecordingListener();
        var second = new RecordingListener();
        _vars.Chip.AddListener(first);
        _vars.Chip.AddListener(second);
        _vars.Program(0x10, 1, 0);
        Assert.Single(first.Writes);
        Assert.Equal(first.Writes, second.Writes);
    }

    private sealed class RecordingListener : IFlashWriteListener
    {
        public List<(FlashWriteKind, ulong, int)> Writes { get; } = [];

        public void Written(CfiFlash chip, FlashWriteKind kind, ulong offset, int length) => Writes.Add((kind, offset, length));
    }
}
