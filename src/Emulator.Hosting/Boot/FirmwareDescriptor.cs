using System.Text.Json;

namespace Emulator.Hosting.Boot;

/// <summary>
/// How a flash firmware keeps its variables (QEMU docs/interop/firmware.json, FirmwareFlashMode,
/// QEMU 8.1): <c>split</c> — a read-only executable and a per-VM copy of an NVRAM template;
/// <c>combined</c> — one image holding both, copied per VM; <c>stateless</c> — the executable
/// alone, variables kept in memory for the run.
/// </summary>
public enum FlashMode
{
    /// <summary>Separate code and varstore images (two flash units).</summary>
    Split,
    /// <summary>One image holding code and varstore (one writable flash unit).</summary>
    Combined,
    /// <summary>Code only: the firmware keeps its variables in memory.</summary>
    Stateless,
}

/// <summary>A target of a descriptor: the QEMU system emulator and the machine-type globs it runs on.</summary>
public sealed record FirmwareTarget(string Architecture, IReadOnlyList<string> Machines);

/// <summary>
/// One QEMU firmware descriptor (QEMU docs/interop/firmware.json, <c>@Firmware</c>), the fields
/// emu decides on. For <c>device</c> other than <c>flash</c> the flash fields stay null.
/// </summary>
public sealed record FirmwareDescriptor(
    string? Description,
    IReadOnlyList<string> InterfaceTypes,
    string Device,
    FlashMode Mode,
    string? Executable,
    string? ExecutableFormat,
    string? NvramTemplate,
    string? NvramTemplateFormat,
    IReadOnlyList<FirmwareTarget> Targets,
    IReadOnlyList<string> Features)
{
    /// <summary>
    /// Parses a descriptor's JSON. Unknown members are ignored (the schema grows; <c>tags</c> is
    /// for developers only); a missing required member or a member of the wrong type is a
    /// <see cref="FormatException"/> naming it, malformed JSON a <see cref="JsonException"/>.
    /// </summary>
    public static FirmwareDescriptor Parse(byte[] json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        var root = document.RootElement;
        Expect(root, JsonValueKind.Object, "the descriptor");
        var mapping = Member(root, "mapping", JsonValueKind.Object)!.Value;
        string device = Text(mapping, "device")!;
        var mode = FlashMode.Split;
        string? executable = null, executableFormat = null, template = null, templateFormat = null;
        if (device == "flash")
        {
            // 'mode' arrived in QEMU 8.1; older descriptors (Debian 12's) are split.
            mode = Text(mapping, "mode", required: false) switch
            {
                null or "split" => FlashMode.Split,
                "combined" => FlashMode.Combined,
                "stateless" => FlashMode.Stateless,
                var other => throw new FormatException($"unknown flash mode '{other}'"),
            };
            var exe = Member(mapping, "executable", JsonValueKind.Object)!.Value;
            (executable, executableFormat) = (Text(exe, "filename"), Text(exe, "format"));
            if (Member(mapping, "nvram-template", JsonValueKind.Object, required: mode == FlashMode.Split) is { } nvram)
            {
                (template, templateFormat) = (Text(nvram, "filename"), Text(nvram, "format"));
            }
        }

        var targets = List(root, "targets", element =>
        {
            Expect(element, JsonValueKind.Object, "a target");
            return new FirmwareTarget(Text(element, "architecture")!, List(element, "machines", Name));
        });
        return new FirmwareDescriptor(
            Text(root, "description", required: false), List(root, "interface-types", Name), device, mode,
            executable, executableFormat, template, templateFormat, targets, List(root, "features", Name, required: false));
    }

    private static string Name(JsonElement element) =>
        element.ValueKind == JsonValueKind.String ? element.GetString()! : throw new FormatException("a list holds a non-string");

    private static JsonElement? Member(JsonElement obj, string name, JsonValueKind kind, bool required = true)
    {
        if (!obj.TryGetProperty(name, out var value))
        {
            return required ? throw new FormatException($"'{name}' is missing") : null;
        }

        Expect(value, kind, $"'{name}'");
        return value;
    }

    private static string? Text(JsonElement obj, string name, bool required = true) => Member(obj, name, JsonValueKind.String, required)?.GetString();

    private static IReadOnlyList<T> List<T>(JsonElement obj, string name, Func<JsonElement, T> item, bool required = true) =>
        Member(obj, name, JsonValueKind.Array, required) is { } array ? array.EnumerateArray().Select(item).ToList() : [];

    private static void Expect(JsonElement element, JsonValueKind kind, string what)
    {
        if (element.ValueKind != kind)
        {
            throw new FormatException($"{what} is {element.ValueKind.ToString().ToLowerInvariant()}, not {kind.ToString().ToLowerInvariant()}");
        }
    }
}
