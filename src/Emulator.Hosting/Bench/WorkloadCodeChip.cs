using System.Text;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Hosting.Bench;

/// <summary>
/// The code chip both flash workloads (<see cref="FlashWorkload"/>'s direct program and
/// <see cref="SmmFlashProgram"/>) boot from: 64 KiB at the top of 4 GiB, as QEMU maps pflash
/// unit 0, with a reset vector that loads a flat GDT and far-jumps to 32-bit protected mode at
/// <see cref="MainOffset"/>, and NUL-terminated messages the program prints on COM1. What
/// differs between the workloads is their main program and what else they place in the chip.
/// </summary>
internal sealed class WorkloadCodeChip
{
    public const int Size = 0x10000;
    public const ulong Base = (1UL << 32) - Size;

    public const int MainOffset = 0x0000;
    public const ushort CodeSelector = 0x08;
    public const ushort DataSelector = 0x10;

    /// <summary>The stack of the 32-bit main program, in low RAM.</summary>
    public const uint StackTop = 0x8000;

    // Where the fixed parts sit (chip offsets; linear address = Base + offset).
    private const int GdtOffset = 0xE000;
    private const int GdtrOffset = 0xE020;
    private const int MessagesOffset = 0xE100;
    private const int MessagesEnd = EntryOffset;
    private const int EntryOffset = 0xF000;
    private const int ResetVectorOffset = 0xFFF0;

    private const ushort Com1Data = 0x3F8;
    private const ushort Com1LineStatus = 0x3FD;
    private const byte TransmitterEmpty = 0x20;

    private readonly byte[] _image = new byte[Size];
    private readonly Dictionary<string, int> _messages = [];
    private int _nextMessage = MessagesOffset;

    public WorkloadCodeChip()
    {
        _image.AsSpan().Fill(0xFF);
        Place(GdtOffset, Gdt());
        Place(EntryOffset, AssembleEntry());
        var reset = new Assembler(16);
        reset.jmp((ulong)EntryOffset);
        Place(ResetVectorOffset, Encode(reset, ResetVectorOffset));
    }

    /// <summary>The finished image (the main program placed with <see cref="Place"/>).</summary>
    public byte[] Image => _image;

    public void Place(int offset, byte[] bytes) => bytes.CopyTo(_image, offset);

    /// <summary>
    /// Sends <paramref name="message"/> and CR LF to COM1 (stored once in the chip, NUL-terminated),
    /// waiting for the transmitter before each byte. Clobbers EAX, EBX, EDX, ESI.
    /// </summary>
    public void Print(Assembler a, string message)
    {
        if (!_messages.TryGetValue(message, out int offset))
        {
            byte[] text = Encoding.ASCII.GetBytes(message + "\r\n\0");
            if (_nextMessage + text.Length > MessagesEnd)
            {
                throw new InvalidOperationException("the workload's messages do not fit the code chip");
            }

            offset = _nextMessage;
            Place(offset, text);
            _messages[message] = offset;
            _nextMessage += text.Length;
        }

        var next = a.CreateLabel();
        var wait = a.CreateLabel();
        var done = a.CreateLabel();
        a.mov(esi, (uint)(Base + (ulong)offset));
        a.Label(ref next);
        a.mov(bl, __byte_ptr[esi]);
        a.test(bl, bl);
        a.jz(done);
        a.mov(dx, Com1LineStatus);
        a.Label(ref wait);
        a.@in(al, dx);
        a.test(al, TransmitterEmpty);
        a.jz(wait);
        a.mov(dx, Com1Data);
        a.mov(al, bl);
        a.@out(dx, al);
        a.inc(esi);
        a.jmp(next);
        a.Label(ref done);
    }

    /// <summary>The main program's first instructions: flat data segments and its stack.</summary>
    public static void EnterFlatSegments(Assembler a)
    {
        a.mov(ax, DataSelector);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(esp, StackTop);
    }

    /// <summary>Writes a dword to PCI configuration register <paramref name="register"/> of bus 0 function <paramref name="devfn"/> (0xCF8/0xCFC).</summary>
    public static void PciWrite(Assembler a, int devfn, int register, uint value, int size)
    {
        a.mov(dx, (ushort)0xCF8);
        a.mov(eax, 0x8000_0000u | (uint)(devfn << 8) | (uint)(register & 0xFC));
        a.@out(dx, eax);
        a.mov(dx, (ushort)(0xCFC + (register & 3)));
        switch (size)
        {
            case 1:
                a.mov(al, (byte)value);
                a.@out(dx, al);
                break;
            case 4:
                a.mov(eax, value);
                a.@out(dx, eax);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(size));
        }
    }

    /// <summary>ACPI S5 through the PM1 control register at <paramref name="pm1ControlPort"/> (SLP_TYP 0 | SLP_EN, QEMU acpi_pm1_cnt_write), then halt for good.</summary>
    public static void PowerOff(Assembler a, ushort pm1ControlPort)
    {
        const ushort sleepEnableTypeS5 = 0x2000;
        a.mov(dx, pm1ControlPort);
        a.mov(ax, sleepEnableTypeS5);
        a.@out(dx, ax);
        var stop = a.CreateLabel();
        a.Label(ref stop);
        a.cli();
        a.hlt();
        a.jmp(stop);
    }

    public static byte[] Encode(Assembler a, ulong rip)
    {
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), rip);
        return stream.ToArray();
    }

    /// <summary>Flat 4 GiB code and data descriptors, and the GDTR image that points at them.</summary>
    private static byte[] Gdt()
    {
        var gdt = new byte[GdtrOffset - GdtOffset + 6];
        BitConverter.GetBytes(0x00CF_9B00_0000_FFFFUL).CopyTo(gdt, CodeSelector);
        BitConverter.GetBytes(0x00CF_9300_0000_FFFFUL).CopyTo(gdt, DataSelector);
        BitConverter.GetBytes((ushort)(3 * 8 - 1)).CopyTo(gdt, GdtrOffset - GdtOffset);
        BitConverter.GetBytes((uint)(Base + GdtOffset)).CopyTo(gdt, GdtrOffset - GdtOffset + 2);
        return gdt;
    }

    /// <summary>
    /// Real mode at the reset vector (CS base 0xFFFF0000, so chip offsets are IPs): load the GDT
    /// with a 32-bit base (o32 LGDT, CS-relative), set CR0.PE, far-jump to the 32-bit main.
    /// </summary>
    private static byte[] AssembleEntry()
    {
        var a = new Assembler(16);
        a.cli();
        var lgdt = Instruction.Create(Code.Lgdt_m1632, new MemoryOperand(Register.None, GdtrOffset, 2));
        lgdt.SegmentPrefix = Register.CS;
        a.AddInstruction(lgdt);
        a.mov(eax, cr0);
        a.or(eax, 1);
        a.mov(cr0, eax);
        a.AddInstruction(Instruction.CreateBranch(Code.Jmp_ptr1632, CodeSelector, (uint)(Base + MainOffset)));
        return Encode(a, EntryOffset);
    }
}
