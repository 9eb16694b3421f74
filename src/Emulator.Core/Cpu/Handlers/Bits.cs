namespace Emulator.Core.Cpu;

internal static unsafe partial class Handlers
{
    internal static void RegisterBits(HandlerRegistry r)
    {
    }
}
