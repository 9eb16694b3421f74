namespace Emulator.Firmware; internal static class Placeholder { }
