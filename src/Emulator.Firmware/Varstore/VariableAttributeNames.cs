namespace Emulator.Firmware.Varstore;

/// <summary>Short attribute names as edk2's dmpstore and the CLI spell them: nv, bs, rt, hr, aw, at, ap, ea.</summary>
public static class VariableAttributeNames
{
    private static readonly (string Name, VariableAttributes Bit)[] s_names =
    [
        ("nv", VariableAttributes.NonVolatile),
        ("bs", VariableAttributes.BootServiceAccess),
        ("rt", VariableAttributes.RuntimeAccess),
        ("hr", VariableAttributes.HardwareErrorRecord),
        ("aw", VariableAttributes.AuthenticatedWriteAccess),
        ("at", VariableAttributes.TimeBasedAuthenticatedWriteAccess),
        ("ap", VariableAttributes.AppendWrite),
        ("ea", VariableAttributes.EnhancedAuthenticatedAccess),
    ];

    public static string Format(VariableAttributes attributes)
    {
        var parts = s_names.Where(n => (attributes & n.Bit) != 0).Select(n => n.Name).ToList();
        uint unknown = (uint)attributes & ~s_names.Aggregate(0u, (acc, n) => acc | (uint)n.Bit);
        if (unknown != 0)
        {
            parts.Add($"0x{unknown:X}");
        }

        return parts.Count == 0 ? "-" : string.Join(',', parts);
    }

    /// <summary>Parses "nv,bs,rt"; returns false with the offending word for anything else.</summary>
    public static bool TryParse(string text, out VariableAttributes attributes, out string? unknown)
    {
        attributes = VariableAttributes.None;
        unknown = null;
        foreach (string word in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var match = s_names.FirstOrDefault(n => n.Name.Equals(word, StringComparison.OrdinalIgnoreCase));
            if (match.Name is null)
            {
                unknown = word;
                return false;
            }

            attributes |= match.Bit;
        }

        if (attributes == VariableAttributes.None)
        {
            unknown = text;
            return false;
        }

        return true;
    }
}
