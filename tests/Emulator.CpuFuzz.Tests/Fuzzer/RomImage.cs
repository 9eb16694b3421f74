using System.Buffers.Binary;
using Emulator.Tests.Shared;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// The 64 KiB BIOS image of a case (<see cref="FuzzLayout"/>): from the reset vector it loads a
/// GDT, enters 32-bit protected mode, installs an IDT whose 32 vectors each enter a HLT of their
/// own, copies the scratch and stack pages' initial bytes into RAM, for long mode builds
/// identity page tables and enables paging with EFER.LME, then runs the prologue (RSP, RFLAGS and
/// the other registers) and jumps to the sequence. QEMU and emu both run all of it; the
/// comparison starts at <see cref="FuzzLayout.SequenceStart"/>.
/// </summary>
internal static class RomImage
{
    public static byte[] Build(FuzzCase fuzzCase, EncodedSequence sequence)
    {
        var rom = new byte[FuzzLayout.RomSize];
        Put(rom, FuzzLayout.ResetVector, [0xE9, 0x0D, 0x00]); // jmp near 0 (IP wraps to F000:0000)
        Put(rom, FuzzLayout.RealModeEntry, fuzzCase.Mode == FuzzMode.Real16 ? RealModeSetup() : RealModeEntry());
        Put(rom, FuzzLayout.ProtectedSetup, ProtectedSetup(fuzzCase.Mode));
        rom.AsSpan(FuzzLayout.Handlers, FuzzLayout.Vectors).Fill(0xF4);
        WriteDescriptorTables(rom, fuzzCase.Mode);
        Put(rom, FuzzLayout.Prologue, fuzzCase.Mode == FuzzMode.Real16 ? RealModePrologue(fuzzCase) : Prologue(fuzzCase));
        Put(rom, FuzzLayout.Sequence, sequence.Bytes);
        Put(rom, FuzzLayout.ScratchImage, fuzzCase.InitialMemory());
        for (int i = 0; i < 16; i++)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(rom.AsSpan(FuzzLayout.XmmImage + 16 * i), fuzzCase.Xmm[i]);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(rom.AsSpan(FuzzLayout.XmmImage + 256), fuzzCase.Mxcsr);
        if (fuzzCase.X87 is { } x87)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(rom.AsSpan(FuzzLayout.XmmImage + X87ImageOffset), x87.Control);
            for (int i = 0; i < x87.Values.Length; i++)
            {
                int at = FuzzLayout.XmmImage + X87ImageOffset + 16 + (10 * i);
                BinaryPrimitives.WriteUInt64LittleEndian(rom.AsSpan(at), x87.Values[i].Significand);
                BinaryPrimitives.WriteUInt16LittleEndian(rom.AsSpan(at + 8), x87.Values[i].SignExponent);
            }
        }

        return rom;
    }

    private static void Put(byte[] rom, int offset, byte[] bytes) => bytes.CopyTo(rom, offset);

    /// <summary>Where the x87 setup sits, from <see cref="FuzzLayout.XmmImage"/>: FCW, then the 10-byte values from +16.</summary>
    private const int X87ImageOffset = 0x200;

    /// <summary>The case's x87 state (<see cref="X87Setup"/>): FNINIT, FLDCW, FLD m80 of each value, addressed from <paramref name="image"/> (the XMM table's base register).</summary>
    private static void LoadX87(Assembler a, FuzzCase c, Func<int, AssemblerMemoryOperand> image)
    {
        if (c.X87 is not { } x87)
        {
            return;
        }

        a.fninit();
        a.fldcw(image(X87ImageOffset));
        for (int i = 0; i < x87.Values.Length; i++)
        {
            a.fld(image(X87ImageOffset + 16 + (10 * i)));
        }
    }

    /// <summary>
    /// Real mode at F000:0000 (CS base 0xFFFF0000): CLI; o32 LGDT cs:[GdtDescriptor]; CR0.PE;
    /// far JMP to the 32-bit setup. Hand-encoded: the 16-bit far jump with a 32-bit offset.
    /// </summary>
    private static byte[] RealModeEntry()
    {
        var bytes = new List<byte> { 0xFA, 0x66, 0x2E, 0x0F, 0x01, 0x16 };
        bytes.AddRange(BitConverter.GetBytes((ushort)FuzzLayout.GdtDescriptor));
        bytes.AddRange([0x0F, 0x20, 0xC0, 0x66, 0x83, 0xC8, 0x01, 0x0F, 0x22, 0xC0, 0x66, 0xEA]);
        bytes.AddRange(BitConverter.GetBytes((uint)(FuzzLayout.RomBase + FuzzLayout.ProtectedSetup)));
        bytes.AddRange(BitConverter.GetBytes(FuzzLayout.Code32));
        return [.. bytes];
    }

    private static byte[] ProtectedSetup(FuzzMode mode)
    {
        var a = new Assembler(32);
        a.mov(ax, FuzzLayout.Data32);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.lidt(__[(uint)(FuzzLayout.RomBase + FuzzLayout.IdtDescriptor)]);
        a.cld();
        a.mov(esi, (uint)(FuzzLayout.RomBase + FuzzLayout.ScratchImage));
        a.mov(edi, (uint)FuzzLayout.ScratchPage);
        a.mov(ecx, FuzzLayout.PageSize / 4);
        a.rep.movsd();
        a.mov(esi, (uint)(FuzzLayout.RomBase + FuzzLayout.StackImage));
        a.mov(edi, (uint)FuzzLayout.StackPage);
        a.mov(ecx, FuzzLayout.PageSize / 4);
        a.rep.movsd();
        // CR4.OSFXSR and OSXMMEXCPT: SSE instructions run (SDM Vol. 3, 14.1.3).
        a.mov(eax, cr4);
        a.or(eax, 0x600);
        a.mov(cr4, eax);
        if (mode.IsLongMode())
        {
            LongModeEntry.IdentityMapAndEnablePaging(a, (uint)FuzzLayout.PageTables);
        }

        // jmp far CS:prologue (EA offset32 selector16).
        a.db(0xEA);
        a.dd((uint)(FuzzLayout.RomBase + FuzzLayout.Prologue));
        a.dw(mode.Bitness() == 64 ? FuzzLayout.Code64 : FuzzLayout.Code32);
        return AssembleAt(a, FuzzLayout.RomBase + FuzzLayout.ProtectedSetup);
    }

    /// <summary>
    /// RSP, RFLAGS (PUSH imm32; POPF), XMM and MXCSR from the table at
    /// <see cref="FuzzLayout.XmmImage"/> (through RAX/EAX, loaded last), the other registers, then
    /// JMP to the sequence.
    /// </summary>
    private static byte[] Prologue(FuzzCase c)
    {
        bool is64 = c.Mode == FuzzMode.Long64;
        var a = new Assembler(c.Mode.Bitness());
        if (is64)
        {
            a.mov(rsp, (long)FuzzLayout.StackStart);
            a.push((int)c.Flags);
            a.popfq();
            a.mov(rax, FuzzLayout.RomBase + FuzzLayout.XmmImage);
            for (int i = 0; i < 16; i++)
            {
                a.movdqu(new AssemblerRegisterXMM(Register.XMM0 + i), __xmmword_ptr[rax + 16 * i]);
            }

            a.ldmxcsr(__dword_ptr[rax + 256]);
            LoadX87(a, c, d => d == X87ImageOffset ? __word_ptr[rax + d] : __tword_ptr[rax + d]);
            for (int i = 0; i < 16; i++)
            {
                if (i != 4)
                {
                    a.mov(new AssemblerRegister64(Register.RAX + i), c.Gprs[i]);
                }
            }
        }
        else
        {
            a.mov(esp, (uint)FuzzLayout.StackStart);
            a.push((int)c.Flags);
            a.popfd();
            a.mov(eax, (uint)(FuzzLayout.RomBase + FuzzLayout.XmmImage));
            for (int i = 0; i < 8; i++)
            {
                a.movdqu(new AssemblerRegisterXMM(Register.XMM0 + i), __xmmword_ptr[eax + 16 * i]);
            }

            a.ldmxcsr(__dword_ptr[eax + 256]);
            LoadX87(a, c, d => d == X87ImageOffset ? __word_ptr[eax + d] : __tword_ptr[eax + d]);
            for (int i = 0; i < 8; i++)
            {
                if (i != 4)
                {
                    a.mov(new AssemblerRegister32(Register.EAX + i), (uint)c.Gprs[i]);
                }
            }
        }

        a.jmp(c.Mode.SequenceIp());
        return AssembleAt(a, FuzzLayout.RomBase + FuzzLayout.Prologue);
    }

    /// <summary>
    /// Real mode (<see cref="FuzzMode.Real16"/>), at F000:0000 with CS's reset base: the IVT's
    /// first 32 vectors to F000:0C00+v (through the BIOS alias at 0xF0000), CR4.OSFXSR and
    /// OSXMMEXCPT, the pages' initial bytes copied from the alias, then JMP to the prologue.
    /// </summary>
    private static byte[] RealModeSetup()
    {
        var a = new Assembler(16);
        a.cli();
        a.xor(ax, ax);
        a.mov(ds, ax);
        for (uint v = 0; v < FuzzLayout.Vectors; v++)
        {
            a.mov(__dword_ptr[v * 4], (uint)(FuzzLayout.LowAlias << 12) | (uint)(FuzzLayout.Handlers + v));
        }

        a.mov(eax, cr4);
        a.or(eax, 0x600);
        a.mov(cr4, eax);
        a.cld();
        a.mov(ax, (ushort)(FuzzLayout.LowAlias >> 4));
        a.mov(ds, ax);
        foreach (var (segment, image) in new[] { (FuzzLayout.RealScratchSegment, FuzzLayout.ScratchImage), (FuzzLayout.RealStackSegment, FuzzLayout.StackImage) })
        {
            a.mov(ax, segment);
            a.mov(es, ax);
            a.mov(si, (ushort)image);
            a.xor(di, di);
            a.mov(cx, FuzzLayout.PageSize / 2);
            a.rep.movsw();
        }

        a.jmp((ulong)FuzzLayout.Prologue);
        return AssembleAt(a, FuzzLayout.RealModeEntry);
    }

    /// <summary>XMM and MXCSR from the alias, the segments, SP, FLAGS (PUSH imm16; POPF), the 32-bit GPRs, JMP to the sequence.</summary>
    private static byte[] RealModePrologue(FuzzCase c)
    {
        var a = new Assembler(16);
        a.mov(ax, (ushort)(FuzzLayout.LowAlias >> 4));
        a.mov(ds, ax);
        a.mov(si, (ushort)FuzzLayout.XmmImage);
        for (int i = 0; i < 8; i++)
        {
            a.movdqu(new AssemblerRegisterXMM(Register.XMM0 + i), __xmmword_ptr[si + 16 * i]);
        }

        a.ldmxcsr(__dword_ptr[si + 256]);
        LoadX87(a, c, d => d == X87ImageOffset ? __word_ptr[si + d] : __tword_ptr[si + d]);
        a.mov(ax, FuzzLayout.RealScratchSegment);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(ax, FuzzLayout.RealStackSegment);
        a.mov(ss, ax);
        a.mov(esp, (uint)(FuzzLayout.StackStart - FuzzLayout.StackPage));
        a.db(0x68); // push imm16
        a.dw((ushort)c.Flags);
        a.popf();
        for (int i = 0; i < 8; i++)
        {
            if (i != 4)
            {
                a.mov(new AssemblerRegister32(Register.EAX + i), (uint)c.Gprs[i]);
            }
        }

        a.jmp(c.Mode.SequenceIp());
        return AssembleAt(a, FuzzLayout.Prologue);
    }

    private static byte[] AssembleAt(Assembler a, ulong address)
    {
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }

    /// <summary>GDT (null, 32-bit code and data, 64-bit code), its descriptor, the IDT and its descriptor.</summary>
    private static void WriteDescriptorTables(byte[] rom, FuzzMode mode)
    {
        var span = rom.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(span[(FuzzLayout.Gdt + FuzzLayout.Code32)..], 0x00CF9B000000FFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(FuzzLayout.Gdt + FuzzLayout.Data32)..], 0x00CF93000000FFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(FuzzLayout.Gdt + FuzzLayout.Code64)..], 0x00AF9B000000FFFF);
        BinaryPrimitives.WriteUInt16LittleEndian(span[FuzzLayout.GdtDescriptor..], 0x1F);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(FuzzLayout.GdtDescriptor + 2)..], (uint)(FuzzLayout.RomBase + FuzzLayout.Gdt));
        int gateSize = mode.IsLongMode() ? 16 : 8;
        ushort selector = mode.IsLongMode() ? FuzzLayout.Code64 : FuzzLayout.Code32;
        for (int v = 0; v < FuzzLayout.Vectors; v++)
        {
            // Interrupt gate, DPL 0, present (Intel SDM Vol. 3, Figures 6-2 and 6-8).
            ulong handler = mode.HandlerIp() + (ulong)v;
            ulong low = (handler & 0xFFFF) | ((ulong)selector << 16) | (0x8EUL << 40) | (((handler >> 16) & 0xFFFF) << 48);
            BinaryPrimitives.WriteUInt64LittleEndian(span[(FuzzLayout.Idt + v * gateSize)..], low);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(span[FuzzLayout.IdtDescriptor..], (ushort)(FuzzLayout.Vectors * gateSize - 1));
        BinaryPrimitives.WriteUInt32LittleEndian(span[(FuzzLayout.IdtDescriptor + 2)..], (uint)(FuzzLayout.RomBase + FuzzLayout.Idt));
    }
}
