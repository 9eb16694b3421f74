using Emulator.Firmware;

namespace Emulator.Hosting.Caching;

/// <summary>How emu's commands parse a firmware image: through this user's inflated-section cache (<see cref="InflatedSectionDirectory.ForUser"/>), so booting, checking or comparing a build again skips its decompression.</summary>
public static class CachedFirmware
{
    private static readonly Lazy<InflatedSectionDirectory?> UserCache = new(() => InflatedSectionDirectory.ForUser(Environment.GetEnvironmentVariable));

    /// <summary><see cref="FirmwareImage.Parse(byte[], IInflatedSectionCache?)"/> with this user's cache.</summary>
    /// <exception cref="FirmwareFormatException">No firmware volume was found.</exception>
    public static FirmwareImage Parse(byte[] image) => FirmwareImage.Parse(image, UserCache.Value);
}
