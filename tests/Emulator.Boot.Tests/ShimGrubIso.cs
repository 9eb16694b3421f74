namespace Emulator.Boot.Tests;

/// <summary>
/// The bootable ISO Debian's edk2 autopkgtest boots its Secure Boot cases from, built the way it
/// builds it (debian/python/UEFI/Filesystems.py, GrubShellBootableIsoImage): a 64 MiB FAT32
/// image (mkdosfs -F 32) holding shim as <c>\EFI\BOOT\BOOTX64.EFI</c> and GRUB as
/// <c>\EFI\BOOT\GRUBX64.EFI</c> (mmd, mcopy), placed as <c>boot/efi.img</c> in an ISO 9660 tree and
/// appended as MBR partition 2 (type 0xEF), which is also the El Torito no-emulation image
/// (<c>xorriso -as mkisofs -J -l -c boot/boot.cat -partition_offset 16 -append_partition 2 0xef
/// … -e --interval:appended_partition_2:all:: -no-emul-boot</c>). Signed: shim-signed's
/// shimx64.efi.signed and grub-efi-amd64-signed's grubx64.efi.signed; unsigned: shim-unsigned's
/// shimx64.efi and grub-efi-amd64-bin's monolithic grubx64.efi, as the test's *_unsigned cases
/// take them (firmware-fixtures/manifest.txt pins all four). Like Debian's, the image is not
/// reproducible byte for byte (time stamps, the FAT volume serial); what the firmware and GRUB
/// print does not depend on them. Built in a temporary folder at test time; a missing tool fails
/// naming its package.
/// </summary>
public static class ShimGrubIso
{
    /// <summary>Builds the ISO into a new temporary file and returns its path (the caller deletes it).</summary>
    public static string Build(bool signed)
    {
        string shim = Fixtures.Path(signed ? "shimx64.efi.signed" : "shimx64.efi");
        string grub = Fixtures.Path(signed ? "grubx64.efi.signed" : "grubx64.efi");
        string dir = Directory.CreateTempSubdirectory("emu-shim-grub-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "root", "boot"));
            IdeBootImages.Run(dir, "dd", "coreutils", "if=/dev/zero", "of=efi.img", "count=0", "bs=1M", "seek=64", "status=none");
            IdeBootImages.Run(dir, "mkdosfs", "dosfstools", "-F", "32", "efi.img");
            IdeBootImages.Run(dir, "mmd", "mtools", "-i", "efi.img", "EFI");
            IdeBootImages.Run(dir, "mmd", "mtools", "-i", "efi.img", "EFI/BOOT");
            IdeBootImages.Run(dir, "mcopy", "mtools", "-i", "efi.img", shim, "::EFI/BOOT/BOOTX64.EFI");
            IdeBootImages.Run(dir, "mcopy", "mtools", "-i", "efi.img", grub, "::EFI/BOOT/GRUBX64.EFI");
            File.Copy(Path.Combine(dir, "efi.img"), Path.Combine(dir, "root", "boot", "efi.img"));
            string iso = Path.Combine(Path.GetTempPath(), $"emu-shim-grub-{(signed ? "signed" : "unsigned")}-{Guid.NewGuid():N}.iso");
            IdeBootImages.Run(
                dir, "xorriso", "xorriso", "-as", "mkisofs", "-J", "-l", "-c", "boot/boot.cat", "-partition_offset", "16",
                "-append_partition", "2", "0xef", "root/boot/efi.img", "-e", "--interval:appended_partition_2:all::", "-no-emul-boot", "-o", iso, "root");
            return iso;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
