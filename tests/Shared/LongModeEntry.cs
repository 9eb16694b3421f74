using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Shared;

/// <summary>
/// 32-bit guest code that enters IA-32e mode paging (Intel SDM Vol. 3, 10.8.5 "Initializing
/// IA-32e Mode"): identity-maps the first 4 GiB with 2 MiB pages (PML4 at the given address,
/// the PDPT and four page directories in the next five pages, all zeroed first), then CR3,
/// CR4.PAE, EFER.LME and CR0.PG. A far jump to a 64-bit code segment follows in the caller.
/// Compiled into the test projects whose guest images boot from the reset vector on QEMU.
/// </summary>
internal static class LongModeEntry
{
    public static void IdentityMapAndEnablePaging(Assembler a, uint pml4)
    {
        uint pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
        a.mov(edi, pml4);
        a.xor(eax, eax);
        a.mov(ecx, 0x6000 / 4);
        a.rep.stosd();
        a.mov(__dword_ptr[pml4], pdpt | 3);
        for (uint i = 0; i < 4; i++)
        {
            a.mov(__dword_ptr[pdpt + i * 8], (pd + i * 0x1000) | 3);
        }

        a.mov(edi, pd);
        a.mov(eax, 0x83); // present, writable, 2 MiB page
        a.mov(ecx, 2048);
        var next = a.CreateLabel();
        a.Label(ref next);
        a.mov(__dword_ptr[edi], eax);
        a.add(eax, 0x200000);
        a.add(edi, 8);
        a.dec(ecx);
        a.jnz(next);
        a.mov(eax, pml4);
        a.mov(cr3, eax);
        a.mov(eax, cr4);
        a.or(eax, 0x20);
        a.mov(cr4, eax);
        a.mov(ecx, 0xC0000080);
        a.rdmsr();
        a.or(eax, 0x100);
        a.wrmsr();
        a.mov(eax, cr0);
        a.or(eax, unchecked((int)0x80000000));
        a.mov(cr0, eax);
    }
}
