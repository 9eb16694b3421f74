using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;

namespace Emulator.Core.Tests.Cpu;

/// <summary>Helpers for system-level tests: a 64-bit IDT whose 32 exception vectors all go to one handler.</summary>
internal static class SystemTestSupport
{
    public const ulong IdtBase = 0x60000;

    public static void InstallLongIdt(TestMachine m, ulong handler)
    {
        for (ulong v = 0; v < 32; v++)
        {
            ulong lo = (handler & 0xFFFF) | ((ulong)TestMachine.Code64 << 16) | (0x8EUL << 40) | ((handler >> 16) & 0xFFFF) << 48;
            m.WriteU64(IdtBase + v * 16, lo);
            m.WriteU64(IdtBase + v * 16 + 8, handler >> 32);
        }

        m.Cpu._idtr = new TableRegister { Base = IdtBase, Limit = 32 * 16 - 1 };
    }
}
