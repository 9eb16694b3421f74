namespace Emulator.Firmware.Varstore;

/// <summary>
/// Sets and deletes variables the way VariableRuntimeDxe does (Variable.c UpdateVariable):
/// a new record is appended after the last one — header, then State = VAR_HEADER_VALID_ONLY,
/// then name and data, then State = VAR_ADDED — and the copy it replaces is first marked
/// VAR_IN_DELETED_TRANSITION and finally VAR_DELETED. Each step only clears bits of erased
/// flash, so a store interrupted between any two writes is still one the firmware accepts and
/// repairs: an incomplete record is ignored, the in-transition copy stays the live one.
/// </summary>
public static class VarstoreEditor
{
    private const VariableAttributes Writable =
        VariableAttributes.NonVolatile | VariableAttributes.BootServiceAccess | VariableAttributes.RuntimeAccess;

    public static VarstoreEdit Set(ReadOnlyMemory<byte> store, string name, Guid vendor, VariableAttributes attributes, ReadOnlySpan<byte> data)
    {
        VarstoreImage image = RequireValid(store);
        ValidateName(name);
        ValidateAttributes(attributes);
        if (data.Length == 0)
        {
            throw new VarstoreException("no data: a variable holds at least one byte (SetVariable with DataSize 0 deletes; use 'vars delete')");
        }

        VariableRecord? existing = image.Find(name, vendor);
        if (existing is not null && existing.Attributes != attributes)
        {
            throw new VarstoreException(
                $"'{name}' exists with attributes {VariableAttributeNames.Format(existing.Attributes)}: the firmware refuses to change attributes, delete it first");
        }

        if (existing is not null && existing.Data.Span.SequenceEqual(data))
        {
            return new VarstoreEdit(store.ToArray(), [], $"'{name}' already holds these {data.Length} bytes: unchanged");
        }

        int size = VariableRecordWriter.AlignedSize(image.IsAuthenticated, name, data.Length);
        int at = image.EndOfRecords;
        if (at + size > image.StoreEnd)
        {
            throw new VarstoreException(
                $"the store is full: the record needs {size} bytes, {image.FreeBytes} are free ({image.ReclaimableBytes} more are held by deleted records; "
                + "compact with 'vars convert --from STORE --template STORE -o NEW')");
        }

        var (header, body) = VariableRecordWriter.Build(image.IsAuthenticated, 0xFF, name, vendor, attributes, data);
        var writes = new List<FlashWrite>();
        if (existing is not null)
        {
            writes.Add(StateWrite(existing, (byte)(existing.State & VariableState.InDeletedTransition), "mark the old copy VAR_IN_DELETED_TRANSITION"));
        }

        writes.Add(new FlashWrite(at, header, "write the new record's header"));
        writes.Add(new FlashWrite(at + 2, [VariableState.HeaderValidOnly], "State = VAR_HEADER_VALID_ONLY"));
        writes.Add(new FlashWrite(at + header.Length, body, "write the name and data"));
        writes.Add(new FlashWrite(at + 2, [VariableState.Added], "State = VAR_ADDED"));
        if (existing is not null)
        {
            writes.Add(StateWrite(existing, (byte)(existing.State & VariableState.InDeletedTransition & VariableState.Deleted), "mark the old copy VAR_DELETED"));
        }

        string what = existing is null ? "added" : "replaced";
        return Apply(store, writes, name, vendor, expectLive: true, $"'{name}' {vendor} {what}: {data.Length} bytes at 0x{at:X}, {VariableAttributeNames.Format(attributes)}");
    }

    public static VarstoreEdit Delete(ReadOnlyMemory<byte> store, string name, Guid vendor)
    {
        VarstoreImage image = RequireValid(store);
        var copies = image.LiveVariables.Where(r => r.Name == name && r.VendorGuid == vendor).ToList();
        if (copies.Count == 0)
        {
            throw new VarstoreException($"no variable '{name}' with vendor GUID {vendor} in the store");
        }

        var writes = copies.Select(r => StateWrite(r, (byte)(r.State & VariableState.Deleted), "State &= VAR_DELETED")).ToList();
        return Apply(store, writes, name, vendor, expectLive: false, $"'{name}' {vendor} deleted (record at 0x{copies[0].Offset:X})");
    }

    /// <summary>Parses the store and refuses to touch one the firmware would not accept as it is.</summary>
    internal static VarstoreImage RequireValid(ReadOnlyMemory<byte> store)
    {
        VarstoreImage image = VarstoreImage.Parse(store);
        if (!image.IsValid)
        {
            throw new VarstoreException($"not a valid varstore ({image.Errors.FirstOrDefault() ?? "no variable store"}); see 'vars check'");
        }

        // Appending where the firmware's walk stopped would write over what lies there (a broken
        // header and the records after it), which its reclaim is about to rewrite anyway.
        if (!image.FreeSpaceErased)
        {
            var repair = image.Issues.First(i => i.Class == VarstoreIssueClass.Repair);
            throw new VarstoreException($"the store needs the firmware's repair first ({repair}); see 'vars check'");
        }

        return image;
    }

    private static void ValidateName(string name)
    {
        if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new VarstoreException("the variable name must be non-empty and contain no NUL character");
        }
    }

    private static void ValidateAttributes(VariableAttributes attributes)
    {
        if ((attributes & ~Writable) != 0)
        {
            throw new VarstoreException(
                $"attributes {VariableAttributeNames.Format(attributes & ~Writable)} need authenticated or hardware-error writes, which this tool does not produce (use nv, bs, rt)");
        }

        if ((attributes & VariableAttributes.NonVolatile) == 0)
        {
            throw new VarstoreException("a varstore holds only non-volatile variables: include 'nv' in --attributes");
        }

        // UEFI spec 8.2 SetVariable: runtime access without boot-service access is EFI_INVALID_PARAMETER.
        if ((attributes & VariableAttributes.RuntimeAccess) != 0 && (attributes & VariableAttributes.BootServiceAccess) == 0)
        {
            throw new VarstoreException("'rt' needs 'bs' as well (UEFI SetVariable rejects runtime access without boot-service access)");
        }
    }

    private static FlashWrite StateWrite(VariableRecord record, byte state, string step) =>
        new(record.Offset + 2, [state], step);

    private static VarstoreEdit Apply(ReadOnlyMemory<byte> store, List<FlashWrite> writes, string name, Guid vendor, bool expectLive, string summary)
    {
        byte[] result = store.ToArray();
        foreach (FlashWrite w in writes)
        {
            w.Bytes.CopyTo(result, w.Offset);
        }

        // The edited copy must read back as a valid store with exactly the intended change.
        VarstoreImage after = VarstoreImage.Parse(result);
        bool live = after.IsValid && after.LiveVariables.Any(r => r.Name == name && r.VendorGuid == vendor);
        if (!after.IsValid || live != expectLive)
        {
            throw new VarstoreException($"internal check failed after editing '{name}': {after.Errors.FirstOrDefault() ?? "variable state unexpected"}; nothing written");
        }

        return new VarstoreEdit(result, writes, summary);
    }
}
