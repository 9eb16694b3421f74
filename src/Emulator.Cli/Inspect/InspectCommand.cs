using System.Text.Json;
using System.Text;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Vars;
using Emulator.Firmware;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Inspect;

namespace Emulator.Cli.Inspect;

/// <summary>
/// <c>inspect FILE [--json]</c>: the firmware volumes of a code image, unified image or varstore
/// as a tree — volumes (file system, size, attributes, block map, header checksum), FFS files
/// (GUID, type, UI name, size, state), sections with GUIDed/compressed ones decoded, nested
/// volumes, PE32/TE images (machine, image base, entry point, size), and for a variable store
/// volume a summary of its store.
/// </summary>
public sealed class InspectCommand(Stream stdout)
{
    public int Run(ParsedArguments a)
    {
        string path = VarsCommand.Positional(a, 0, "FILE", 1);
        byte[] bytes = InputFile.Read(InputRole.Image("firmware"), path);
        FirmwareImage image;
        try
        {
            image = Emulator.Hosting.Caching.CachedFirmware.Parse(bytes);
        }
        catch (FirmwareFormatException e)
        {
            throw new UsageException($"'{path}' is not a firmware image: {e.Message}");
        }

        var model = InspectModel.Build(path, bytes, image);
        using var output = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        if (a.Has("--json"))
        {
            output.WriteLine(JsonSerializer.Serialize(model, VarsCommand.Json));
            return 0;
        }

        output.WriteLine($"{path}: {model.Size} bytes (0x{model.Size:X}), {model.Volumes.Count} volume{(model.Volumes.Count == 1 ? string.Empty : "s")}, {model.Modules} PE/TE modules");
        foreach (VolumeNode v in model.Volumes)
        {
            WriteVolume(output, v, 0);
        }

        foreach (string d in model.Diagnostics)
        {
            output.WriteLine("note: " + d);
        }

        return 0;
    }

    private static void WriteVolume(TextWriter w, VolumeNode v, int depth)
    {
        string pad = new(' ', depth * 2);
        w.WriteLine($"{pad}FV {v.ImageOffset ?? "(in decoded section)"} {v.FileSystem}{(v.Name is { } n ? $" name {n}" : string.Empty)} size 0x{v.Size:X} "
            + $"attributes {v.Attributes} header 0x{v.HeaderLength:X} checksum {(v.HeaderChecksumValid ? "ok" : "WRONG")} blocks {string.Join("+", v.BlockMap)}, {v.Files.Count} files");
        if (v.Varstore is { } store)
        {
            w.WriteLine($"{pad}  variable store: {store.Format}, size {store.StoreSize}, {store.LiveVariables} live of {store.Records} records, {store.FreeBytes} bytes free, {(store.Valid ? "valid" : "INVALID")}");
            foreach (string p in store.Problems)
            {
                w.WriteLine($"{pad}    {p}");
            }
        }

        foreach (FileNode f in v.Files)
        {
            w.WriteLine($"{pad}  file {f.Guid} {f.Type}{(f.Name is { } name ? $" \"{name}\"" : string.Empty)} at {f.Offset} size 0x{f.Size:X} state {f.State}");
            foreach (SectionNode s in f.Sections)
            {
                WriteSection(w, s, depth + 2);
            }
        }
    }

    private static void WriteSection(TextWriter w, SectionNode s, int depth)
    {
        string pad = new(' ', depth * 2);
        var line = new StringBuilder($"{pad}{s.Type} 0x{s.Size:X}");
        if (s.Decoder != null)
        {
            line.Append($" {s.Decoder}{(s.Guid is { } g ? $" {g}" : string.Empty)} {(s.Decoded ? "decoded" : "NOT decoded")}");
        }

        if (s.Text != null)
        {
            line.Append($" \"{s.Text}\"");
        }

        if (s.Image is { } i)
        {
            line.Append($" {i.Format} {i.Machine} base {i.ImageBase} entry {i.Entry} size {i.SizeOfImage}");
        }

        w.WriteLine(line.ToString());
        if (s.Volume is { } nested)
        {
            WriteVolume(w, nested, depth + 1);
        }

        foreach (SectionNode child in s.Children)
        {
            WriteSection(w, child, depth + 1);
        }
    }
}
