using System.Security.Cryptography;
using Emulator.Firmware.Varstore;

namespace Emulator.Hosting.Reporting;

/// <summary>
/// The report's <c>variables[]</c>: the live variables of the writable chip as OVMF's
/// VariableRuntimeDxe would find them at the end of the run (the shared varstore parser), each
/// with a digest of its data so that two runs' varstores compare without carrying the data.
/// </summary>
internal static class ReportVariables
{
    /// <summary>The live variables of a usable store (the caller reports none when the chip holds no OVMF varstore).</summary>
    public static IReadOnlyList<VariableInfo> Of(VarstoreImage image) =>
        image.Records.Where(r => r.IsLive)
            .Select(r => new VariableInfo(r.Name, r.VendorGuid, VariableAttributeNames.Format(r.Attributes), r.DataSize, Convert.ToHexStringLower(SHA256.HashData(r.Data.Span))))
            .ToList();
}
