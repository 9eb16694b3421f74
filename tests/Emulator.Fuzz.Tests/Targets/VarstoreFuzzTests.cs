using System.Buffers.Binary;
using Emulator.Firmware.Varstore;
using Emulator.Fuzz.Tests.Support;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// VarstoreImage.Parse never throws: every damage is a listed issue. Besides the pinned templates,
/// a store with records and a pending fault-tolerant write is mutated with half of the mutations
/// on the fields the parser reads as lengths and states (FV header, store header, record headers,
/// FTW working block header, write header and record), where a forgotten bound would show.
/// </summary>
[Trait("Category", "Fuzz")]
public class VarstoreFuzzTests
{
    private const string Target = "varstore";
    private const int Ftw = 0xF000;
    private const int Queue = Ftw + 0x20;

    [Theory]
    [InlineData("OVMF_VARS.fd")]
    [InlineData("OVMF_VARS_4M.fd")]
    public void MutatedStores(string fixture) =>
        FuzzRun.Run($"{Target}-{fixture}", Mutations.Of(Seeds.Fixture(fixture)), Parse, _ => false);

    [Fact]
    public void MutatedHeadersOfAStoreWithRecordsAndAPendingWrite() =>
        FuzzRun.Run($"{Target}-hot-headers", Mutations.Of(StoreWithRecordsAndPendingWrite(), HotOffsets()), Parse, _ => false);

    [Fact]
    public void Garbage() => FuzzRun.Run($"{Target}-garbage", Mutations.Garbage(4096), Parse, _ => false);

    /// <summary>Found cases (Corpus/varstore/), e.g. the FTW WriteQueueSize that once threw ArgumentOutOfRangeException.</summary>
    [Theory]
    [MemberData(nameof(Corpus))]
    public void CorpusReplays(string entry) => FuzzRun.Replay(Target, entry, Parse, _ => false);

    public static TheoryData<string> Corpus() => FuzzRun.CorpusFiles(Target);

    /// <summary>Parses and reads what the commands read from the model, so a lazy property cannot hide a throw.</summary>
    private static void Parse(byte[] bytes)
    {
        var image = VarstoreImage.Parse(bytes);
        _ = (image.IsValid, image.NeedsRepair, image.FreeBytes, image.ReclaimableBytes, image.LiveVariables.Count(), image.Issues.Count);
    }

    /// <summary>The 2 MB template with three variables and an allocated, unfinished FTW write of two records.</summary>
    private static byte[] StoreWithRecordsAndPendingWrite()
    {
        byte[] store = Seeds.Fixture("OVMF_VARS.fd");
        var vendor = new Guid("3F6C1C1A-5E0B-4A57-9D2A-0B1D6E5A7C11");
        foreach (string name in new[] { "EmuBefore", "EmuMiddle", "EmuAfter" })
        {
            store = VarstoreEditor.Set(store, name, vendor, VariableAttributes.NonVolatile | VariableAttributes.BootServiceAccess, [1, 2, 3]).Result;
        }

        store[Queue] = 0xFC; // HeaderAllocated, WritesAllocated, not Complete
        BinaryPrimitives.WriteUInt64LittleEndian(store.AsSpan(Queue + 24), 2);
        BinaryPrimitives.WriteUInt64LittleEndian(store.AsSpan(Queue + 32), 0);
        store[Queue + 40] = 0xF9; // first write done
        store[Queue + 80] = 0xFD; // second write in the spare, not at its target
        return store;
    }

    private static int[] HotOffsets() =>
    [
        0x20, 0x30, 0x32, 0x38, 0x3C, // FvLength, HeaderLength, Checksum, block map
        0x48 + 16, 0x48 + 20, // store Size, Format/State
        0x64, 0x64 + 36, 0x64 + 40, 0xB8, 0xB8 + 36, 0xB8 + 40, 0x10C, // record StartId/State, NameSize, DataSize
        Ftw + 16, Ftw + 24, // FTW Crc/state, WriteQueueSize
        Queue, Queue + 24, Queue + 32, Queue + 40, Queue + 80, // write header flags, NumberOfWrites, PrivateDataSize, records
    ];
}
