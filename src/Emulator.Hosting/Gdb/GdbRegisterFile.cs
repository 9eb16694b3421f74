using System.Buffers.Binary;
using System.Text;
using Emulator.Core.Cpu;
using Emulator.Core.Cpu.Float;

namespace Emulator.Hosting.Gdb;

/// <summary>
/// The registers gdb sees, one layout per CPU model and never another: qemu64 answers with
/// i386:x86-64's (64-bit general registers in every mode, so the <c>g</c> reply keeps its size
/// across the firmware's mode switches: no "'g' packet reply is too long"), qemu32 with i386's.
/// The target description uses gdb's own feature names (org.gnu.gdb.i386.core, .sse, .segments:
/// gdb's amd64/i386 code recognises the registers by them) plus org.emu.x86.system with the
/// control registers, EFER and the segment bases, which gdb shows as <c>$cr0</c>, <c>$cs_base</c> …
/// RIP is shown as the linear address of the next instruction (see its entry). Writable: the
/// general registers, RIP, RFLAGS, x87 and SSE state; the rest is read-only (a
/// write of the value it has is accepted, so gdb's <c>G</c> of what it read back works).
/// </summary>
internal sealed class GdbRegisterFile
{
    private readonly Register[] _registers;

    private GdbRegisterFile(bool longMode)
    {
        LongMode = longMode;
        int w = longMode ? 8 : 4;
        var list = new List<Register>();
        int[] order = longMode
            ? [Gpr.Rax, Gpr.Rbx, Gpr.Rcx, Gpr.Rdx, Gpr.Rsi, Gpr.Rdi, Gpr.Rbp, Gpr.Rsp, 8, 9, 10, 11, 12, 13, 14, 15]
            : [Gpr.Rax, Gpr.Rcx, Gpr.Rdx, Gpr.Rbx, Gpr.Rsp, Gpr.Rbp, Gpr.Rsi, Gpr.Rdi];
        string[] names = longMode
            ? ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
            : ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
        for (int i = 0; i < order.Length; i++)
        {
            int gpr = order[i];
            string type = names[i] is "rbp" or "rsp" or "ebp" or "esp" ? "data_ptr" : longMode ? "int64" : "int32";
            list.Add(new(Core, names[i], w * 8, type, c => c.GetGpr(gpr), (c, v) => c.SetGpr(gpr, v)));
        }

        // The linear address of the next instruction: CS.base + IP, which is RIP itself in 64-bit
        // mode and with the flat segments firmware uses after SEC, and what makes x/i $pc and
        // breakpoints (linear, as QEMU's) agree in real mode, where CS.base is not 0 (the reset
        // vector is F000:FFF0 = 0xFFFFFFF0). A write moves IP to the address given minus CS.base.
        list.Add(new(Core, longMode ? "rip" : "eip", w * 8, "code_ptr", c => c.LinearRip, (c, v) => c.SetRipForDebugger(IpFromLinear(c, v))));
        list.Add(new(Core, "eflags", 32, "i386_eflags", c => c.FlagsRegister, (c, v) => c.SetRFlagsForDebugger(v)));
        foreach (var (name, seg) in new[] { ("cs", Seg.Cs), ("ss", Seg.Ss), ("ds", Seg.Ds), ("es", Seg.Es), ("fs", Seg.Fs), ("gs", Seg.Gs) })
        {
            list.Add(new(Core, name, 32, "int32", c => c.GetSegment(seg).Selector, null));
        }

        for (int i = 0; i < 8; i++)
        {
            int st = i;
            list.Add(new(Core, $"st{i}", 80, "i387_ext", null, null) { Float = st });
        }

        list.Add(new(Core, "fctrl", 32, "int", c => c.Fpu.ControlWord, (c, v) => c.Fpu.ControlWord = (ushort)v, "float"));
        list.Add(new(Core, "fstat", 32, "int", c => c.Fpu.StatusWordWithTop, (c, v) => c.Fpu.LoadStatusWord((ushort)v), "float"));
        list.Add(new(Core, "ftag", 32, "int", c => (ulong)c.Fpu.FullTagWord(), (c, v) => c.Fpu.TagValid = TagValidFrom((int)v), "float"));
        list.Add(new(Core, "fiseg", 32, "int", c => c.Fpu.Fcs, (c, v) => c.Fpu.Fcs = (ushort)v, "float"));
        list.Add(new(Core, "fioff", 32, "int", c => (uint)c.Fpu.Fip, (c, v) => c.Fpu.Fip = (uint)v, "float"));
        list.Add(new(Core, "foseg", 32, "int", c => c.Fpu.Fds, (c, v) => c.Fpu.Fds = (ushort)v, "float"));
        list.Add(new(Core, "fooff", 32, "int", c => (uint)c.Fpu.Fdp, (c, v) => c.Fpu.Fdp = (uint)v, "float"));
        // emu keeps no last opcode (FXSAVE stores FOP as 0, as QEMU's helper does when it has none).
        list.Add(new(Core, "fop", 32, "int", _ => 0, null, "float"));
        for (int i = 0; i < (longMode ? 16 : 8); i++)
        {
            int x = i;
            list.Add(new(Sse, $"xmm{i}", 128, "vec128", null, null) { Xmm = x });
        }

        list.Add(new(Sse, "mxcsr", 32, "i386_mxcsr", c => c.Fpu.Mxcsr, (c, v) => c.Fpu.Mxcsr = (uint)v, "vector"));
        list.Add(new(Segments, "fs_base", w * 8, "int", c => c.GetSegment(Seg.Fs).Base, null));
        list.Add(new(Segments, "gs_base", w * 8, "int", c => c.GetSegment(Seg.Gs).Base, null));
        foreach (var (name, seg) in new[] { ("cs_base", Seg.Cs), ("ss_base", Seg.Ss), ("ds_base", Seg.Ds), ("es_base", Seg.Es) })
        {
            list.Add(new(SystemFeature, name, w * 8, "data_ptr", c => c.GetSegment(seg).Base, null, "system"));
        }

        list.Add(new(SystemFeature, "cr0", w * 8, "int", c => c.Cr0, null, "system"));
        list.Add(new(SystemFeature, "cr2", w * 8, "data_ptr", c => c.Cr2, null, "system"));
        list.Add(new(SystemFeature, "cr3", w * 8, "int", c => c.Cr3, null, "system"));
        list.Add(new(SystemFeature, "cr4", w * 8, "int", c => c.Cr4, null, "system"));
        list.Add(new(SystemFeature, "efer", 64, "int64", c => c.Efer, null, "system"));
        list.Add(new(SystemFeature, "cpl", 32, "int32", c => (ulong)c.Cpl, null, "system"));
        _registers = [.. list];
        TargetXml = BuildXml();
    }

    private const string Core = "org.gnu.gdb.i386.core";
    private const string Sse = "org.gnu.gdb.i386.sse";
    private const string Segments = "org.gnu.gdb.i386.segments";
    private const string SystemFeature = "org.emu.x86.system";

    /// <summary>qemu64's layout (i386:x86-64).</summary>
    public static GdbRegisterFile X86_64 { get; } = new(longMode: true);

    /// <summary>qemu32's layout (i386).</summary>
    public static GdbRegisterFile I386 { get; } = new(longMode: false);

    public bool LongMode { get; }

    /// <summary>The <c>target.xml</c> gdb reads with qXfer:features:read.</summary>
    public string TargetXml { get; }

    public int Count => _registers.Length;

    /// <summary>Register <paramref name="number"/>'s bytes, little-endian; null for a number beyond the layout.</summary>
    public byte[]? Read(Cpu cpu, int number)
    {
        if ((uint)number >= (uint)_registers.Length)
        {
            return null;
        }

        var r = _registers[number];
        var bytes = new byte[r.Bits / 8];
        if (r.Float is int st)
        {
            Float80 v = cpu.Fpu.St[(cpu.Fpu.Top + st) & 7];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, v.Significand);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), v.SignExponent);
        }
        else if (r.Xmm is int x)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(bytes, cpu.Fpu.Xmm[x]);
        }
        else
        {
            ulong value = r.Get!(cpu);
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)(value >> (8 * i));
            }
        }

        return bytes;
    }

    /// <summary>Every register in order: the <c>g</c> reply.</summary>
    public byte[] ReadAll(Cpu cpu)
    {
        var all = new List<byte>();
        for (int i = 0; i < _registers.Length; i++)
        {
            all.AddRange(Read(cpu, i)!);
        }

        return [.. all];
    }

    /// <summary>
    /// Writes register <paramref name="number"/>; an error text when it cannot be (no such
    /// register, wrong size, or a read-only one given a new value), null when done.
    /// </summary>
    public string? Write(Cpu cpu, int number, ReadOnlySpan<byte> value)
    {
        if ((uint)number >= (uint)_registers.Length)
        {
            return $"no register {number}";
        }

        var r = _registers[number];
        if (value.Length != r.Bits / 8)
        {
            return $"{r.Name} takes {r.Bits / 8} bytes, not {value.Length}";
        }

        if (r.Float is int st)
        {
            cpu.Fpu.St[(cpu.Fpu.Top + st) & 7] = new Float80(BinaryPrimitives.ReadUInt64LittleEndian(value), BinaryPrimitives.ReadUInt16LittleEndian(value[8..]));
            return null;
        }

        if (r.Xmm is int x)
        {
            cpu.Fpu.Xmm[x] = BinaryPrimitives.ReadUInt128LittleEndian(value);
            return null;
        }

        ulong v = 0;
        for (int i = 0; i < value.Length; i++)
        {
            v |= (ulong)value[i] << (8 * i);
        }

        if (r.Set is null)
        {
            ulong mask = r.Bits >= 64 ? ulong.MaxValue : (1UL << r.Bits) - 1;
            return (r.Get!(cpu) & mask) == v ? null : $"{r.Name} is read-only here";
        }

        r.Set(cpu, v);
        return null;
    }

    /// <summary>Writes every register from a <c>G</c> packet's bytes; an error text or null.</summary>
    public string? WriteAll(Cpu cpu, ReadOnlySpan<byte> all)
    {
        int offset = 0;
        for (int i = 0; i < _registers.Length && offset < all.Length; i++)
        {
            int size = _registers[i].Bits / 8;
            if (offset + size > all.Length)
            {
                return "a G packet ends inside a register";
            }

            if (Write(cpu, i, all.Slice(offset, size)) is { } error)
            {
                return error;
            }

            offset += size;
        }

        return null;
    }

    /// <summary>The IP that puts the next instruction at <paramref name="linear"/> (CS.base ignored in 64-bit mode).</summary>
    internal static ulong IpFromLinear(Cpu cpu, ulong linear) => cpu.Bitness switch
    {
        64 => linear,
        32 => (uint)(linear - cpu.GetSegment(Seg.Cs).Base),
        _ => (ushort)(linear - cpu.GetSegment(Seg.Cs).Base),
    };

    /// <summary>The tag-valid bits from a full tag word (a register is valid unless its tag is 3).</summary>
    private static byte TagValidFrom(int tagWord)
    {
        int valid = 0;
        for (int i = 0; i < 8; i++)
        {
            if (((tagWord >> (2 * i)) & 3) != 3)
            {
                valid |= 1 << i;
            }
        }

        return (byte)valid;
    }

    private string BuildXml()
    {
        var xml = new StringBuilder();
        xml.Append("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n");
        xml.Append("<architecture>").Append(LongMode ? "i386:x86-64" : "i386").Append("</architecture>\n");
        string? feature = null;
        for (int i = 0; i < _registers.Length; i++)
        {
            var r = _registers[i];
            if (r.Feature != feature)
            {
                if (feature != null)
                {
                    xml.Append("</feature>\n");
                }

                feature = r.Feature;
                xml.Append("<feature name=\"").Append(feature).Append("\">\n");
                xml.Append(feature switch
                {
                    Core => EflagsType,
                    Sse => VectorTypes,
                    _ => string.Empty,
                });
            }

            xml.Append($"<reg name=\"{r.Name}\" bitsize=\"{r.Bits}\" type=\"{r.Type}\" regnum=\"{i}\"");
            xml.Append(r.Group is { } g ? $" group=\"{g}\"/>\n" : "/>\n");
        }

        xml.Append("</feature>\n</target>\n");
        return xml.ToString();
    }

    private const string EflagsType =
        "<flags id=\"i386_eflags\" size=\"4\"><field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
        + "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>"
        + "<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
        + "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>"
        + "<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
        + "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/></flags>\n";

    private const string VectorTypes =
        "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/><vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
        + "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/><vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
        + "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/><vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
        + "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
        + "<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
        + "<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/></union>\n"
        + "<flags id=\"i386_mxcsr\" size=\"4\"><field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>"
        + "<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/><field name=\"UE\" start=\"4\" end=\"4\"/>"
        + "<field name=\"PE\" start=\"5\" end=\"5\"/><field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>"
        + "<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/><field name=\"OM\" start=\"10\" end=\"10\"/>"
        + "<field name=\"UM\" start=\"11\" end=\"11\"/><field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/></flags>\n";

    private sealed record Register(string Feature, string Name, int Bits, string Type, Func<Cpu, ulong>? Get, Action<Cpu, ulong>? Set, string? Group = null)
    {
        public int? Float { get; init; }

        public int? Xmm { get; init; }
    }
}
