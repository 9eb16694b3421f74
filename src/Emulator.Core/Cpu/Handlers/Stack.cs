namespace Emulator.Core.Cpu;

internal static unsafe partial class Handlers
{
    internal static void RegisterStack(HandlerRegistry r)
    {
    }
}
