namespace Emulator.Core; internal static class Placeholder { }
