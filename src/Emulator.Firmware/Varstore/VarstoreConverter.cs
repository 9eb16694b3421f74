using static Emulator.Firmware.Varstore.VarstoreLayout;

namespace Emulator.Firmware.Varstore;

/// <summary>
/// Moves a store into another layout (e.g. Debian's 2 MB OVMF_VARS.fd into the 4 MB
/// OVMF_VARS_4M.fd): the template provides the volume, store header and FTW areas the new code
/// build expects; the source provides its live variables, copied in order with their
/// attributes and authentication fields. Deleted and incomplete records are left behind, so
/// converting a store onto its own template also compacts it. Padding or truncating a store
/// instead never works: OVMF checks FvLength and would erase it (docs/qemu-pflash.md).
/// </summary>
public static class VarstoreConverter
{
    private const VariableAttributes AuthenticatedAttributes = VariableAttributes.AuthenticatedWriteAccess
        | VariableAttributes.TimeBasedAuthenticatedWriteAccess | VariableAttributes.EnhancedAuthenticatedAccess;

    public sealed record Result(byte[] Store, int Variables, int BytesUsed, int BytesAvailable, IReadOnlyList<string> Notes);

    public static Result Convert(ReadOnlyMemory<byte> source, ReadOnlyMemory<byte> template)
    {
        VarstoreImage from = VarstoreImage.Parse(source);
        if (!from.IsUsable)
        {
            throw new VarstoreException($"the source is not a varstore: {from.Errors.FirstOrDefault()}");
        }

        VarstoreImage into = VarstoreEditor.RequireValid(template);
        if (into.IsUnifiedImage)
        {
            throw new VarstoreException("the template is a unified firmware image; give a VARS file (OVMF_VARS*.fd) of the target build");
        }

        // What the firmware would reject or repair in the source stays behind; only the live
        // variables its walk reaches are copied (records after a broken header are not).
        var notes = from.Issues.Where(i => i.Class != VarstoreIssueClass.Note).Select(i => $"source problem ignored: {i}").ToList();
        var variables = from.LiveVariables.ToList();
        if (!into.IsAuthenticated && variables.FirstOrDefault(v => (v.Attributes & AuthenticatedAttributes) != 0) is { } auth)
        {
            throw new VarstoreException($"'{auth.Name}' is an authenticated variable and the template's store is not authenticated (gEfiVariableGuid)");
        }

        int start = Align4(into.StoreOffset + StoreHeaderSize);
        int needed = variables.Sum(v => VariableRecordWriter.AlignedSize(into.IsAuthenticated, v.Name, v.DataSize));
        int available = into.StoreEnd - start;
        if (needed > available)
        {
            throw new VarstoreException(
                $"the source's {variables.Count} live variables need {needed} bytes but the template's store holds {available}: they do not fit");
        }

        if (into.LiveVariables.Any())
        {
            notes.Add($"the template's {into.LiveVariables.Count()} variables were replaced by the source's");
        }

        byte[] result = template.ToArray();
        result.AsSpan(start, into.StoreEnd - start).Fill(0xFF);
        int at = start;
        foreach (VariableRecord v in variables)
        {
            var (header, body) = VariableRecordWriter.Build(into.IsAuthenticated, VariableState.Added, v.Name, v.VendorGuid, v.Attributes, v.Data.Span, v);
            header.CopyTo(result, at);
            body.CopyTo(result, at + header.Length);
            at += VariableRecordWriter.AlignedSize(into.IsAuthenticated, v.Name, v.DataSize);
        }

        Verify(result, variables);
        return new Result(result, variables.Count, needed, available, notes);
    }

    private static void Verify(byte[] result, List<VariableRecord> expected)
    {
        VarstoreImage check = VarstoreImage.Parse(result);
        var got = check.LiveVariables.ToList();
        bool same = check.IsValid && got.Count == expected.Count && got.Zip(expected).All(p =>
            p.First.Name == p.Second.Name && p.First.VendorGuid == p.Second.VendorGuid
            && p.First.Attributes == p.Second.Attributes && p.First.Data.Span.SequenceEqual(p.Second.Data.Span));
        if (!same)
        {
            throw new VarstoreException($"internal check failed: the converted store does not read back ({check.Errors.FirstOrDefault() ?? "variables differ"}); nothing written");
        }
    }
}
