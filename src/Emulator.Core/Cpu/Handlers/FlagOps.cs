namespace Emulator.Core.Cpu;

internal static unsafe partial class Handlers
{
    internal static void RegisterFlagOps(HandlerRegistry r)
    {
    }
}
