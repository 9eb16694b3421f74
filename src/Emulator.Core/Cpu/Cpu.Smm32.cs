namespace Emulator.Core.Cpu;

/// <summary>
/// The 32-bit SMM state-save map, which QEMU 7.2 builds only into qemu-system-i386 (the
/// <c>#else</c> branches of do_smm_enter and helper_rsm in target/i386/tcg/sysemu/smm_helper.c;
/// edk2 OvmfPkg/Include/Register/QemuSmramSaveStateMap.h, QEMU_SMRAM_SAVE_STATE_MAP32). Offsets
/// from SMBASE+0x8000; the table is in docs/cpu.md, section "SMM". Every field is 4 bytes.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>QEMU's SMM_REVISION_ID for i386: 0x20000 (bit 17: SMBASE relocation), no AMD64 map.</summary>
    public const uint SmmRevisionId32 = 0x0002_0000;

    private const uint Save32Cr0 = 0x7FFC, Save32Cr3 = 0x7FF8, Save32EFlags = 0x7FF4, Save32Eip = 0x7FF0;

    /// <summary>EDI at 0x7FEC down to EAX at 0x7FD0, in reverse encoding order.</summary>
    private const uint Save32Eax = 0x7FD0, Save32Dr6 = 0x7FCC, Save32Dr7 = 0x7FC8;

    private const uint Save32TrSelector = 0x7FC4, Save32LdtrSelector = 0x7FC0, Save32SegmentSelectors = 0x7FA8;

    /// <summary>Attribute/limit/base triples: TR at 0x7F5C, LDTR at 0x7F78; ES CS SS at 0x7F84, DS FS GS at 0x7F2C.</summary>
    private const uint Save32TrCache = 0x7F5C, Save32LdtrCache = 0x7F78, Save32LowSegments = 0x7F84, Save32HighSegments = 0x7F2C;

    private const uint Save32Gdtr = 0x7F70, Save32Idtr = 0x7F54, Save32Cr4 = 0x7F14, Save32SmBase = 0x7EF8;

    private void SaveSmmState32(ulong map)
    {
        SmramWrite(map + Save32Cr0, 4, (uint)_cr0);
        SmramWrite(map + Save32Cr3, 4, (uint)_cr3);
        SmramWrite(map + Save32EFlags, 4, (uint)GetFlags());
        SmramWrite(map + Save32Eip, 4, (uint)_rip);
        for (int i = 0; i < 8; i++)
        {
            SmramWrite(map + Save32Eax + (ulong)i * 4, 4, (uint)_gpr[i]);
        }

        SmramWrite(map + Save32Dr6, 4, (uint)_dr[6]);
        SmramWrite(map + Save32Dr7, 4, (uint)_dr[7]);
        SmramWrite(map + Save32TrSelector, 4, _tr.Selector);
        WriteSavedCache32(map + Save32TrCache, _tr);
        SmramWrite(map + Save32LdtrSelector, 4, _ldtr.Selector);
        WriteSavedCache32(map + Save32LdtrCache, _ldtr);
        SmramWrite(map + Save32Gdtr + 4, 4, (uint)_gdtr.Base);
        SmramWrite(map + Save32Gdtr, 4, _gdtr.Limit);
        SmramWrite(map + Save32Idtr + 4, 4, (uint)_idtr.Base);
        SmramWrite(map + Save32Idtr, 4, _idtr.Limit);
        for (int i = 0; i < 6; i++)
        {
            SmramWrite(map + Save32SegmentSelectors + (ulong)i * 4, 4, _seg[i].Selector);
            WriteSavedCache32(map + SegmentCache32(i), _seg[i]);
        }

        SmramWrite(map + Save32Cr4, 4, (uint)_cr4);
        SmramWrite(map + SaveRevision, 4, SmmRevisionId32);
        SmramWrite(map + Save32SmBase, 4, SmBase);
    }

    /// <summary>helper_rsm's i386 branch, in its order: CR0, CR3, EFLAGS, EIP, GPRs, DR6/7, TR, LDTR, GDTR, IDTR, segments, CR4, SMBASE.</summary>
    private void RestoreSmmState32(ulong map)
    {
        LoadCr0((uint)SmramRead(map + Save32Cr0, 4));
        _cr3 = (uint)SmramRead(map + Save32Cr3, 4);
        SetFlags((uint)SmramRead(map + Save32EFlags, 4));
        _nextRip = (uint)SmramRead(map + Save32Eip, 4);
        for (int i = 0; i < 8; i++)
        {
            _gpr[i] = (uint)SmramRead(map + Save32Eax + (ulong)i * 4, 4);
        }

        _dr[6] = (uint)SmramRead(map + Save32Dr6, 4);
        _dr[7] = (uint)SmramRead(map + Save32Dr7, 4);
        DebugRegistersChanged();
        _tr = ReadSavedCache32(map + Save32TrCache, (ushort)SmramRead(map + Save32TrSelector, 4));
        _ldtr = ReadSavedCache32(map + Save32LdtrCache, (ushort)SmramRead(map + Save32LdtrSelector, 4));
        _gdtr = new TableRegister { Base = (uint)SmramRead(map + Save32Gdtr + 4, 4), Limit = (uint)SmramRead(map + Save32Gdtr, 4) };
        _idtr = new TableRegister { Base = (uint)SmramRead(map + Save32Idtr + 4, 4), Limit = (uint)SmramRead(map + Save32Idtr, 4) };
        for (int i = 0; i < 6; i++)
        {
            _seg[i] = ReadSavedCache32(map + SegmentCache32(i), (ushort)SmramRead(map + Save32SegmentSelectors + (ulong)i * 4, 4));
        }

        _cr4 = (uint)SmramRead(map + Save32Cr4, 4);
        RelocateSmBase(map + SaveRevision, map + Save32SmBase);
    }

    /// <summary>ES, CS, SS at 0x7F84 + 12·i; DS, FS, GS at 0x7F2C + 12·(i−3) (do_smm_enter).</summary>
    private static uint SegmentCache32(int index) =>
        index < 3 ? Save32LowSegments + (uint)index * 12 : Save32HighSegments + (uint)(index - 3) * 12;

    /// <summary>Attributes at +0 (as in the 64-bit map), limit at +4, base at +8.</summary>
    private void WriteSavedCache32(ulong at, SegmentRegister s)
    {
        SmramWrite(at, 4, (s.Attributes >> 8) & 0xF0FF);
        SmramWrite(at + 4, 4, s.Limit);
        SmramWrite(at + 8, 4, (uint)s.Base);
    }

    private SegmentRegister ReadSavedCache32(ulong at, ushort selector) => new()
    {
        Selector = selector,
        Attributes = ((uint)SmramRead(at, 4) & 0xF0FF) << 8,
        Limit = (uint)SmramRead(at + 4, 4),
        Base = (uint)SmramRead(at + 8, 4),
    };
}
