using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Varstore;

/// <summary>The report's varstore record: the file, how it was kept, what was recovered and what the writer did.</summary>
internal static class VarstoreReport
{
    public static VarstoreInfo Of(VarstoreFile file, FlashPersistence? writer) => new(
        file.Path,
        file.Snapshot ? "snapshot" : "persisted",
        file.Recovered.Records,
        file.Recovered.DataBytes,
        file.Recovered.TornBytes,
        writer?.Operations ?? 0,
        writer?.BytesPersisted ?? 0,
        writer?.JournalRecords ?? 0,
        writer?.Syncs ?? 0,
        writer?.Failure?.Message);
}
