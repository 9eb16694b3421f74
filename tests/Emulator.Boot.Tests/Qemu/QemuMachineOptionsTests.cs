using Emulator.Cli.CommandLine;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;
using Emulator.Hosting;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Qemu;

namespace Emulator.Boot.Tests.Qemu;

/// <summary>
/// Issue 17's machine options, in the QEMU drop-in (<c>-machine q35,smm=...</c>, <c>-cpu</c>,
/// <c>-global</c>, <c>-drive file=</c>, qemu-system-i386) and in <c>emu boot</c> (<c>--machine</c>,
/// <c>--cpu</c>, <c>--secure-flash</c>, <c>--disable-s3</c>), down to the <see cref="BootOptions"/>
/// a session builds its machine from. Messages are QEMU 7.2's, checked against the real binary.
/// </summary>
[Trait("Category", "Unit")]
public sealed class QemuMachineOptionsTests
{
    private static readonly string[] Firmware = ["-drive", "file=code.fd,if=pflash,format=raw,unit=0,readonly=on", "-drive", "file=vars.fd,if=pflash,format=raw,unit=1,readonly=off"];

    private static QemuConfig Parse(params string[] args) => QemuCommandLine.Parse([.. Firmware, .. args]);

    private static QemuConfig ParseI386(params string[] args) => QemuCommandLine.Parse([.. Firmware, .. args], i386: true);

    private static string Error(params string[] args) => Assert.Throws<UsageException>(() => Parse(args)).Message;

    [Theory]
    [InlineData("q35", PcChipset.Q35, true)]
    [InlineData("q35,accel=tcg", PcChipset.Q35, true)]
    [InlineData("pc-q35-7.2,smm=on", PcChipset.Q35, true)]
    [InlineData("q35,accel=tcg,smm=off", PcChipset.Q35, false)]
    [InlineData("type=q35,smm=auto", PcChipset.Q35, true)]
    [InlineData("pc,smm=off", PcChipset.I440fx, false)]
    [InlineData("pc-i440fx-7.2", PcChipset.I440fx, true)]
    public void MachineTypeAndSmm(string machine, PcChipset chipset, bool smm)
    {
        foreach (string option in (ReadOnlySpan<string>)["-machine", "-M"])
        {
            var c = Parse(option, machine);
            Assert.Equal(chipset, c.Chipset);
            Assert.Equal(smm, c.Smm);
            var o = QemuBootOptions.From(c);
            Assert.Equal(chipset, o.Chipset);
            Assert.Equal(smm, o.Smm);
        }
    }

    [Theory]
    [InlineData(new[] { "-machine", "q35,smm=xyz" }, "-machine q35,smm=xyz: Parameter 'smm' does not accept value 'xyz'")]
    [InlineData(new[] { "-machine", "q35,foo=bar" }, "-machine q35,foo=bar: Property 'pc-q35-7.2-machine.foo' not found")]
    [InlineData(new[] { "-machine", "q35,accel=kvm" }, "-machine q35,accel=kvm: emu is an interpreter: only accel=tcg")]
    [InlineData(new[] { "-global", "driver=cfi.pflash01,property=secure,value=maybe" }, "can't apply global cfi.pflash01.secure=maybe: Parameter 'secure' expects 'on' or 'off'")]
    [InlineData(new[] { "-global", "driver=cfi.pflash01,property=bogus,value=on" }, "can't apply global cfi.pflash01.bogus=on: Property 'cfi.pflash01.bogus' not found")]
    [InlineData(new[] { "-global", "driver=cfi.pflash01,property=secure" }, "-global driver=cfi.pflash01,property=secure: options 'driver', 'property', and 'value' are required")]
    [InlineData(new[] { "-machine", "q35", "-global", "ICH9-LPC.disable_s3=maybe" }, "can't apply global ICH9-LPC.disable_s3=maybe: Parameter 'disable_s3' expects uint64")]
    [InlineData(new[] { "-machine", "q35", "-global", "ICH9-LPC.bogus=1" }, "can't apply global ICH9-LPC.bogus=1: Property 'ICH9-LPC.bogus' not found")]
    [InlineData(new[] { "-global", "PIIX4_PM.disable_s3=maybe" }, "can't apply global PIIX4_PM.disable_s3=maybe: Parameter 'disable_s3' expects uint64")]
    [InlineData(new[] { "-global", "foo" }, "-global foo: Invalid parameter 'foo'")]
    public void QemusWordingForBadMachineAndGlobalProperties(string[] args, string message) => Assert.Equal(message, Error(args));

    [Fact]
    public void SecureFlashOnlyThroughTheDriverForm()
    {
        Assert.False(Parse().SecureFlash);
        var driverForm = Parse("-machine", "q35", "-global", "driver=cfi.pflash01,property=secure,value=on");
        Assert.True(driverForm.SecureFlash);
        Assert.Empty(driverForm.Warnings);
        Assert.True(QemuBootOptions.From(driverForm).SecureFlash);
        Assert.False(Parse("-global", "driver=cfi.pflash01,property=secure,value=off").SecureFlash);

        // QEMU splits the short form at the first dot: class "cfi", property "pflash01.secure".
        var shortForm = Parse("-global", "cfi.pflash01.secure=on");
        Assert.False(shortForm.SecureFlash);
        Assert.Equal(["global cfi.pflash01.secure has invalid class name"], shortForm.Warnings);
    }

    [Fact]
    public void DisableS3FollowsTheBoardsPmDevice()
    {
        Assert.True(Parse("-machine", "q35", "-global", "ICH9-LPC.disable_s3=1").DisableS3);
        Assert.False(Parse("-machine", "q35", "-global", "ICH9-LPC.disable_s3=0").DisableS3);
        Assert.True(Parse("-global", "PIIX4_PM.disable_s3=1").DisableS3);

        // A global for a device the board lacks is not applied: ICH9-LPC on pc silently, PIIX4_PM on q35 with QEMU's warning.
        var lpcOnPc = Parse("-global", "ICH9-LPC.disable_s3=1");
        Assert.False(lpcOnPc.DisableS3);
        Assert.Empty(lpcOnPc.Warnings);
        var pmOnQ35 = Parse("-global", "PIIX4_PM.disable_s3=1", "-machine", "q35");
        Assert.False(pmOnQ35.DisableS3);
        Assert.Equal(["global PIIX4_PM.disable_s3=1 not used"], pmOnQ35.Warnings);
        Assert.True(QemuBootOptions.From(Parse("-machine", "q35", "-global", "ICH9-LPC.disable_s3=1")).DisableS3);
    }

    [Fact]
    public void I386DefaultsToQemu32AndThe32BitSmmMap()
    {
        var c = ParseI386("-machine", "q35,accel=tcg");
        Assert.Same(CpuModel.Qemu32, c.Cpu);
        var o = QemuBootOptions.From(c);
        Assert.Same(CpuModel.Qemu32, o.Cpu);
        Assert.True(o.SmmSaveMap32);

        var x64 = QemuBootOptions.From(Parse("-cpu", "qemu32"));
        Assert.Same(CpuModel.Qemu32, x64.Cpu);
        Assert.False(x64.SmmSaveMap32); // qemu-system-x86_64 writes the AMD64 map whatever the CPU
        Assert.Same(CpuModel.Qemu64, QemuBootOptions.From(Parse()).Cpu);
        Assert.Equal("-cpu qemu64: emu's qemu-system-i386 models only the qemu32 CPU", Assert.Throws<UsageException>(() => ParseI386("-cpu", "qemu64")).Message);
    }

    [Fact]
    public void DebiansQ35CommandLinesParse()
    {
        // debian/python/UEFI/Qemu.py (edk2 2022.11-6): Ovmf_Common_Params, the pflash pair, disable_s3 for 2 MB secboot, a raw disk.
        string disk = Path.GetTempFileName();
        try
        {
            string[] common = ["-no-user-config", "-nodefaults", "-m", "256", "-smp", "1,sockets=1,cores=1,threads=1", "-display", "none", "-serial", "stdio",
                "-chardev", "pty,id=charserial1", "-device", "isa-serial,chardev=charserial1,id=serial1"];
            var c = Parse(["-machine", "q35,accel=tcg", .. common, "-global", "ICH9-LPC.disable_s3=1", "-drive", $"file={disk},format=raw"]);
            Assert.Equal(PcChipset.Q35, c.Chipset);
            Assert.True(c.Smm);
            Assert.True(c.DisableS3);
            Assert.Equal([disk], c.IdeDrives.Select(d => d.Path));
            Assert.Equal(0, c.IdeDrives.Single().Index);      // AHCI port 0, as QEMU places a drive given without index
            Assert.Equal(2, c.Pflash.Count);
            Assert.Equal(2, c.SerialPorts.Count);
            var i386 = ParseI386(["-machine", "q35,accel=tcg", .. common]);
            Assert.True(QemuBootOptions.From(i386).SmmSaveMap32);
        }
        finally
        {
            File.Delete(disk);
        }
    }

    [Fact]
    public void EmuBootOptionsReachBootOptions()
    {
        var o = BootOptionsParser.Parse(["--code", "c.fd", "--machine", "q35,smm=off", "--cpu", "qemu32", "--secure-flash", "--disable-s3"]);
        Assert.Equal(PcChipset.Q35, o.Chipset);
        Assert.False(o.Smm);
        Assert.Same(CpuModel.Qemu32, o.Cpu);
        Assert.True(o.SmmSaveMap32);
        Assert.True(o.SecureFlash);
        Assert.True(o.DisableS3);

        var d = BootOptionsParser.Parse(["--code", "c.fd"]);
        Assert.Equal(PcChipset.I440fx, d.Chipset);
        Assert.True(d.Smm);
        Assert.Same(CpuModel.Qemu64, d.Cpu);
        Assert.False(d.SmmSaveMap32 || d.SecureFlash || d.DisableS3);

        Assert.Equal("--machine foo: unsupported machine type (emu models pc and q35)", Assert.Throws<UsageException>(() => BootOptionsParser.Parse(["--code", "c.fd", "--machine", "foo"])).Message);
        Assert.Equal("--cpu i486: unable to find CPU model 'i486'", Assert.Throws<UsageException>(() => BootOptionsParser.Parse(["--code", "c.fd", "--cpu", "i486"])).Message);
    }

    [Fact]
    public void AQ35RequestOnAnotherBoardIsOneLine()
    {
        var machine = new PcMachine(new MachineOptions { RamSize = 16UL << 20, Flash = [new("code", new byte[0x10000], true)] });
        var e = Assert.Throws<UsageException>(() => MachineCheck.RequireChipset(machine, PcChipset.Q35));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("q35", e.Message, StringComparison.Ordinal);

        using var pc = new PcMachine(new MachineOptions { RamSize = 16UL << 20, Flash = [new("code", new byte[0x10000], true)] });
        MachineCheck.RequireChipset(pc, PcChipset.I440fx);
        Assert.Equal(0u, pc.Pci.Read(Core.Devices.Pci.PciHost.AddressOffset, 4)); // the address register as the guest finds it
    }
}
