using Emulator.Core.Devices.Ide;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Qemu;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Qemu;
using Emulator.Hosting.Serial;
using Emulator.Hosting;

namespace Emulator.Boot.Tests.Qemu;

/// <summary>The QEMU front end's reading of a command line: each option, QEMU's key=value syntax, and its device rules.</summary>
[Trait("Category", "Unit")]
public class QemuCommandLineTests
{
    private static readonly string[] Firmware = ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=code.fd"];

    private static QemuConfig Parse(params string[] args) => QemuCommandLine.Parse([.. Firmware, .. args]);

    private static string Error(params string[] args) => Assert.Throws<UsageException>(() => QemuCommandLine.Parse(args)).Message;

    [Fact]
    public void DriveKeysInAnyOrderWithEscapedCommas()
    {
        var c = QemuCommandLine.Parse([
            "-drive", "file=/fw/code,,v2.fd,readonly=on,unit=0,format=raw,if=pflash",
            "-drive", "if=pflash,unit=1,file=vars.fd,format=raw"]);
        Assert.Equal(new PflashDrive(0, "/fw/code,v2.fd", true, false), c.Pflash[0]);
        Assert.Equal(new PflashDrive(1, "vars.fd", false, false), c.Pflash[1]);
    }

    [Fact]
    public void DrivesWithoutUnitTakeTheNextFreeOneAndPflashIsAWritableDrive()
    {
        var c = QemuCommandLine.Parse(["-pflash", "a,b.fd", "-drive", "if=pflash,format=raw,file=vars.fd,snapshot=on"]);
        Assert.Equal(new PflashDrive(0, "a,b.fd", false, false), c.Pflash[0]);
        Assert.Equal(new PflashDrive(1, "vars.fd", false, true), c.Pflash[1]);
    }

    [Fact]
    public void SnapshotOptionAppliesToEveryDrive()
    {
        var c = QemuCommandLine.Parse(["-snapshot", "-pflash", "fw.fd"]);
        Assert.True(c.Pflash[0].Snapshot);
        Assert.True(c.Snapshot);
    }

    [Theory]
    [InlineData("256", 256UL << 20)]
    [InlineData("512M", 512UL << 20)]
    [InlineData("1G", 1UL << 30)]
    [InlineData("size=128M", 128UL << 20)]
    public void MemoryInQemusSpelling(string arg, ulong bytes) => Assert.Equal(bytes, Parse("-m", arg).Memory);

    [Theory]
    [InlineData("-machine", "pc")]
    [InlineData("-machine", "pc,accel=tcg")]
    [InlineData("-M", "pc-i440fx-7.2")]
    [InlineData("-machine", "type=pc,accel=kvm:tcg")]
    [InlineData("-accel", "tcg")]
    [InlineData("-accel", "tcg,thread=single")]
    [InlineData("-smp", "1")]
    [InlineData("-smp", "1,sockets=1,cores=1,threads=1")]
    [InlineData("-cpu", "qemu64")]
    [InlineData("-display", "none")]
    [InlineData("-vga", "none")]
    [InlineData("-monitor", "none")]
    [InlineData("-net", "none")]
    [InlineData("-name", "guest,,1")]
    [InlineData("-global", "cfi.pflash01.secure=on")]
    [InlineData("-global", "driver=cfi.pflash01,property=secure,value=off")]
    public void AcceptedOptions(string option, string value) => Parse(option, value);

    [Theory]
    [InlineData("-nodefaults")]
    [InlineData("-no-user-config")]
    [InlineData("-nographic")]
    [InlineData("--nodefaults")]
    [InlineData("-no-hpet")]
    public void AcceptedFlags(string flag) => Parse(flag);

    [Fact]
    public void HpetIsOnUnlessTheCommandLineTurnsItOff()
    {
        Assert.False(Parse().NoHpet);
        Assert.True(Parse("-no-hpet").NoHpet);
        Assert.True(Parse("-machine", "pc,hpet=off").NoHpet);
        Assert.False(Parse("-machine", "pc,hpet=on").NoHpet);
        Assert.Contains("'hpet' expects 'on' or 'off'", Error([.. Firmware, "-machine", "pc,hpet=maybe"]));
    }

    [Fact]
    public void PowerFlags()
    {
        var c = Parse("-no-reboot", "-no-shutdown");
        Assert.True(c.NoReboot);
        Assert.True(c.NoShutdown);
        Assert.False(Parse().NoReboot);
    }

    [Fact]
    public void GdbOptionsListWhereQemuWould()
    {
        Assert.Equal(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1234), Parse("-s").Gdb);
        Assert.Equal(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 4321), Parse("-gdb", "tcp::4321").Gdb);
        Assert.Equal(new System.Net.IPEndPoint(System.Net.IPAddress.Any, 4321), Parse("-gdb", "tcp:0.0.0.0:4321").Gdb);
        var waiting = Parse("-s", "-S");
        Assert.True(waiting.GdbWait);
        Assert.Null(Parse().Gdb);
    }

    [Fact]
    public void IcountSleepOffTurnsPacingOff()
    {
        Assert.True(Parse("-icount", "shift=0,sleep=off").NoSleep);
        Assert.False(Parse("-icount", "0").NoSleep);
        Assert.False(Parse().NoSleep);
    }

    [Theory]
    [InlineData(new[] { "-foo" }, "-foo: invalid option")]
    [InlineData(new[] { "-m" }, "-m: requires an argument")]
    [InlineData(new[] { "-enable-kvm" }, "-enable-kvm: not supported by emu")]
    [InlineData(new[] { "-S" }, "-S: emu has no monitor to continue from: use -S with -s or -gdb")]
    [InlineData(new[] { "-gdb", "udp::1234" }, "-gdb udp::1234: expected tcp::PORT, tcp:HOST:PORT or PORT (a TCP port 0-65535)")]
    [InlineData(new[] { "-gdb", "tcp:nohost:1234" }, "-gdb tcp:nohost:1234: 'nohost' is not an IP address (give one, e.g. tcp:0.0.0.0:1234)")]
    [InlineData(new[] { "-machine", "isapc" }, "-machine isapc: unsupported machine type (emu models pc and q35)")]
    [InlineData(new[] { "-machine", "pc,foo=1" }, "-machine pc,foo=1: Property 'pc-i440fx-7.2-machine.foo' not found")]
    [InlineData(new[] { "-accel", "kvm" }, "-accel kvm: emu is an interpreter: only -accel tcg")]
    [InlineData(new[] { "-smp", "2" }, "-smp 2: emu models one CPU (cpus=2)")]
    [InlineData(new[] { "-smp", "cores=2" }, "-smp cores=2: emu models one CPU (cores=2)")]
    [InlineData(new[] { "-cpu", "host" }, "-cpu host: emu models only the qemu64 and qemu32 CPUs")]
    [InlineData(new[] { "-cpu", "qemu99" }, "-cpu qemu99: unable to find CPU model 'qemu99'")]
    [InlineData(new[] { "-display", "gtk" }, "-display gtk: emu is headless: only -display none")]
    [InlineData(new[] { "-vga", "std" }, "-vga std: emu has no display adapter: only -vga none")]
    [InlineData(new[] { "-monitor", "stdio" }, "-monitor stdio: emu has no monitor: only -monitor none")]
    [InlineData(new[] { "-drive", "if=virtio,file=disk.img,media=tape" }, "-drive if=virtio,file=disk.img,media=tape: 'tape' invalid media")]
    [InlineData(new[] { "-drive", "if=none,file=disk.img" }, "-drive if=none,file=disk.img: emu attaches if=none drives to -device virtio-blk-pci by id: give id=")]
    [InlineData(new[] { "-drive", "if=scsi,file=disk.img" }, "-drive if=scsi,file=disk.img: emu supports only if=pflash, if=ide, if=virtio and if=none drives, not if=scsi")]
    [InlineData(new[] { "-boot", "order=x" }, "Invalid boot device 'x'")]
    [InlineData(new[] { "-boot", "order=e" }, "Invalid boot device for PC: 'e'")]
    [InlineData(new[] { "-boot", "menu=maybe" }, "Parameter 'boot.menu' expects 'on' or 'off'")]
    [InlineData(new[] { "-boot", "foo=1" }, "Parameter 'boot.foo' is unexpected")]
    [InlineData(new[] { "-boot", "splash-time=x" }, "Parameter 'boot.splash-time' expects integer")]
    [InlineData(new[] { "-boot", "reboot-timeout=70000" }, "reboot timeout is invalid,it should be a value between -1 and 65535")]
    [InlineData(new[] { "-drive", "file=/no/such/disk.img,format=raw" }, "-drive file=/no/such/disk.img,format=raw: Could not open '/no/such/disk.img': No such file or directory")]
    [InlineData(new[] { "-drive", "if=pflash,format=qcow2,file=x" }, "-drive if=pflash,format=qcow2,file=x: emu supports only format=raw")]
    [InlineData(new[] { "-drive", "if=pflash,format=raw" }, "-drive if=pflash,format=raw: Must specify either driver or file")]
    [InlineData(new[] { "-drive", "if=pflash,file=x,foo=bar" }, "-drive if=pflash,file=x,foo=bar: Invalid parameter 'foo'")]
    [InlineData(new[] { "-drive", "if=pflash,file=x,readonly=maybe" }, "-drive if=pflash,file=x,readonly=maybe: Parameter 'readonly' expects 'on' or 'off', not 'maybe'")]
    [InlineData(new[] { "-drive", "if=pflash,file=x,unit=5" }, "-drive if=pflash,file=x,unit=5: machine type does not support if=pflash,bus=0,unit=5")]
    [InlineData(new[] { "-pflash", "a", "-drive", "if=pflash,unit=0,file=b" }, "-drive if=pflash,unit=0,file=b: drive with bus=0, unit=0 (index=0) exists")]
    [InlineData(new[] { "-drive", "if=pflash,unit=1,file=vars" }, "pflash1 requires pflash0")]
    [InlineData(new[] { "-nodefaults" }, "no firmware: give it with -drive if=pflash,format=raw,file=OVMF_CODE.fd or -bios (QEMU's default SeaBIOS is not part of emu)")]
    [InlineData(new[] { "/no/such/disk.img" }, "/no/such/disk.img: Could not open '/no/such/disk.img': No such file or directory")]
    [InlineData(new[] { "-global", "PIIX4_PM.smm-enabled=1" }, "-global PIIX4_PM.smm-enabled=1: global property PIIX4_PM.smm-enabled is not supported by emu")]
    [InlineData(new[] { "-global", "isa-debugcon.iobase=0x3f8" }, "-global isa-debugcon.iobase=0x3f8: emu supports isa-debugcon iobase 0x402 or 0xe9, not '0x3f8'")]
    public void ErrorsNameTheOption(string[] args, string message) => Assert.Equal(message, Error(args));

    /// <summary>
    /// blockdev.c drive_new's placement in command-line order: -cdrom at index 2, -hdb at 1, drives
    /// without index at the next free position; without -nodefaults QEMU's empty CD-ROM takes index 2
    /// when nothing is there; -snapshot makes images snapshot drives; -boot reaches the machine options.
    /// </summary>
    [Fact]
    public void IdeDrivesArePlacedAsQemuPlacesThem()
    {
        string image = Path.GetTempFileName();
        File.WriteAllBytes(image, new byte[4096]);
        try
        {
            var c = Parse("-nodefaults", "-cdrom", image, "-drive", $"file={image},format=raw,snapshot=on", "-hdb", image, "-drive", $"file={image},format=raw,snapshot=on");
            Assert.Equal(
                [(2, IdeDriveKind.CdRom, BootDriveMode.ReadOnly), (0, IdeDriveKind.Disk, BootDriveMode.Snapshot), (1, IdeDriveKind.Disk, BootDriveMode.ReadWrite), (3, IdeDriveKind.Disk, BootDriveMode.Snapshot)],
                c.IdeDrives.Select(d => (d.Index, d.Kind, d.Mode)));
            Assert.Equal([image, image], c.ProbedImages);

            var defaults = Parse("-snapshot", "-drive", $"file={image},format=raw,bus=1");
            Assert.Equal([(2, IdeDriveKind.Disk, image, BootDriveMode.Snapshot)], defaults.IdeDrives.Select(d => (d.Index, d.Kind, d.Path, d.Mode)));
            Assert.Equal([(0, IdeDriveKind.Disk, (string?)image), (2, IdeDriveKind.CdRom, null)], Parse(image).IdeDrives.Select(d => (d.Index, d.Kind, d.Path)));

            var boot = QemuBootOptions.From(Parse("-boot", "dc,once=n,menu=on,splash-time=2500,reboot-timeout=-1,strict=on"));
            Assert.Equal(new BootDeviceOptions("dc", "n", true, 2500, -1), boot.BootDevices);
        }
        finally
        {
            File.Delete(image);
        }
    }

    /// <summary>
    /// virtio-blk disks in QEMU's creation order: -device virtio-blk-pci (taking its if=none drive)
    /// in -device order, then the if=virtio drives; read-only and snapshot media allowed; IDE
    /// positions untouched; without -nodefaults the slots of QEMU's VGA and NIC are left empty.
    /// </summary>
    [Fact]
    public void VirtioDrivesFollowTheDevicesAndLeaveTheDefaultsSlots()
    {
        string image = Path.GetTempFileName();
        File.WriteAllBytes(image, new byte[4096]);
        try
        {
            var c = Parse(
                "-nodefaults", "-drive", $"file={image},format=raw,if=virtio,readonly=on", "-drive", $"file={image},format=raw,if=none,id=d0,snapshot=on",
                "-device", "virtio-blk-pci,drive=d0", "-hda", image);
            Assert.Equal(
                [(0, BootDriveMode.Snapshot, BootDriveInterface.Virtio), (1, BootDriveMode.ReadOnly, BootDriveInterface.Virtio)],
                c.VirtioDrives.Select(d => (d.Index, d.Mode, d.Interface)));
            Assert.Equal([(0, BootDriveInterface.Ide)], c.IdeDrives.Select(d => (d.Index, d.Interface)));
            Assert.Equal(0, c.AbsentDefaultPciSlots);
            Assert.Equal(
                [(int?)0x1F, null],
                Parse("-drive", $"file={image},format=raw,if=none,id=a", "-device", "virtio-blk-pci,drive=a,addr=1f.0", "-drive", $"file={image},format=raw,if=virtio")
                    .VirtioDrives.Select(d => d.Slot));
            Assert.Equal(1, Parse("-net", "none", "-drive", $"file={image},format=raw,if=virtio").AbsentDefaultPciSlots);
            Assert.Equal(2, Parse("-drive", $"file={image},format=raw,if=virtio").AbsentDefaultPciSlots);
            Assert.Empty(Parse("-drive", $"file={image},format=raw,if=none,id=x").VirtioDrives);   // an unattached drive is no disk

            // media=cdrom on virtio only makes the medium read-only (QEMU 7.2's `info block`: "read-only").
            Assert.Equal(
                [(BootDriveMode.ReadOnly, IdeDriveKind.Disk, BootDriveInterface.Virtio)],
                Parse("-drive", $"file={image},format=raw,if=virtio,media=cdrom").VirtioDrives.Select(d => (d.Mode, d.Kind, d.Interface)));
        }
        finally
        {
            File.Delete(image);
        }
    }

    [Fact]
    public void EachSerialTakesTheNextComPortAndNoneTakesNone()
    {
        // -serial file:PATH takes the path literally (qemu_chr_parse_compat): no ",," escaping there.
        var c = Parse("-nodefaults", "-serial", "stdio", "-serial", "none", "-serial", "file:com,,2.log", "-serial", "null");
        Assert.Equal(
            [new SerialPortSpec(0, SerialBackend.Console), new SerialPortSpec(1, new SerialBackend(SerialBackendKind.File, "com,,2.log")), new SerialPortSpec(2, SerialBackend.Null)],
            c.SerialPorts);
        Assert.False(c.ConsoleMux);
    }

    [Fact]
    public void IsaSerialDevicesFollowTheSerialPortsInOrder()
    {
        var c = Parse(
            "-nodefaults", "-chardev", "file,id=log,path=dev.log", "-chardev", "pty,id=p0",
            "-device", "isa-serial,chardev=p0", "-serial", "stdio", "-device", "isa-serial,chardev=log");
        Assert.Equal(
            [
                new SerialPortSpec(0, SerialBackend.Console),
                new SerialPortSpec(1, new SerialBackend(SerialBackendKind.Pty, Label: "p0")),
                new SerialPortSpec(2, new SerialBackend(SerialBackendKind.File, "dev.log")),
            ],
            c.SerialPorts);
    }

    [Fact]
    public void AnIsaSerialIndexPicksItsPortAndADeviceWithoutChardevIsSilent()
    {
        var c = Parse("-nodefaults", "-device", "isa-serial,index=3", "-device", "isa-serial,id=s1");
        Assert.Equal([new SerialPortSpec(3, SerialBackend.Null), new SerialPortSpec(1, SerialBackend.Null)], c.SerialPorts);
    }

    [Fact]
    public void AFifthSerialIsNotAttachedAndAFifthIsaSerialIsRefused()
    {
        Assert.Equal(4, Parse([.. Enumerable.Repeat(new[] { "-serial", "null" }, 5).SelectMany(x => x)]).SerialPorts.Count);
        var args = Firmware.Concat(Enumerable.Repeat(new[] { "-device", "isa-serial" }, 5).SelectMany(x => x)).ToArray();
        Assert.Equal("-device isa-serial: Max. supported number of ISA serial ports is 4.", Error(args));
    }

    [Fact]
    public void DefaultSerialFollowsQemusRules()
    {
        // Headless without -nographic: COM1 on a virtual console nobody sees.
        Assert.Equal([new SerialPortSpec(0, SerialBackend.Null)], Parse("-display", "none").SerialPorts);

        // -nographic: mon:stdio (Ctrl-A x quits), or stdio when a monitor is given.
        var nographic = Parse("-nographic");
        Assert.Equal([new SerialPortSpec(0, SerialBackend.Console)], nographic.SerialPorts);
        Assert.True(nographic.ConsoleMux);
        Assert.False(Parse("-nographic", "-monitor", "none").ConsoleMux);

        // -nodefaults, a -serial or an isa-serial device drops the default.
        Assert.Empty(Parse("-nodefaults").SerialPorts);
        Assert.Equal([new SerialPortSpec(0, SerialBackend.Null)], Parse("-device", "isa-serial").SerialPorts);
        Assert.Equal([new SerialPortSpec(0, new SerialBackend(SerialBackendKind.File, "x"))], Parse("-serial", "file:x").SerialPorts);
        Assert.Empty(Parse("-serial", "none").SerialPorts);
    }

    [Fact]
    public void DefaultDevicesEmuDoesNotModelAreListed()
    {
        Assert.Equal(["VGA", "network card"], Parse().UnmodelledDefaults);
        Assert.Empty(Parse("-vga", "none", "-net", "none").UnmodelledDefaults);
        Assert.Empty(Parse("-nodefaults").UnmodelledDefaults);
    }

    [Theory]
    [InlineData(new[] { "-nodefaults", "-serial", "stdio", "-serial", "stdio" }, "-serial stdio: cannot use stdio by multiple character devices")]
    [InlineData(new[] { "-nographic", "-serial", "stdio" }, "-serial stdio: cannot use stdio by multiple character devices")]
    [InlineData(new[] { "-chardev", "null,id=c0", "-device", "isa-serial,chardev=c0", "-device", "isa-serial,chardev=c0" }, "-device isa-serial,chardev=c0: Property 'serial.chardev' can't take value 'c0': Device 'c0' is in use")]
    [InlineData(new[] { "-device", "isa-serial,chardev=nope" }, "-device isa-serial,chardev=nope: Property 'serial.chardev' can't find value 'nope'")]
    [InlineData(new[] { "-chardev", "null" }, "-chardev null: chardev: no id specified")]
    [InlineData(new[] { "-chardev", "bogus,id=a" }, "-chardev bogus,id=a: 'bogus' is not a valid char driver name")]
    [InlineData(new[] { "-chardev", "null,id=a,foo=1" }, "-chardev null,id=a,foo=1: Invalid parameter 'foo'")]
    [InlineData(new[] { "-serial", "bogus:x" }, "-serial bogus:x: 'bogus:x' is not a valid char driver")]
    [InlineData(new[] { "-device", "e1000" }, "-device e1000: device 'e1000' is not supported by emu (isa-serial, isa-debugcon, isa-debug-exit and virtio-blk-pci are)")]
    [InlineData(new[] { "-smbios", "type=1,serial=x" }, "-smbios type=1,serial=x: emu supports -smbios type=11 (OEM strings) only")]
    [InlineData(new[] { "-smbios", "file=t.bin" }, "-smbios file=t.bin: emu supports -smbios type=11 (OEM strings) only")]
    [InlineData(new[] { "-smbios", "type=11,foo=1" }, "-smbios type=11,foo=1: Invalid parameter 'foo'")]
    [InlineData(new[] { "-device", "isa-debug-exit,iobase=xyz" }, "-device isa-debug-exit,iobase=xyz: Parameter 'iobase' expects integer")]
    [InlineData(new[] { "-device", "isa-debug-exit,iosize=0" }, "-device isa-debug-exit,iosize=0: isa-debug-exit ports 0x501+0 are not within the I/O space 0x0-0xFFFF")]
    [InlineData(new[] { "-device", "isa-debug-exit", "-device", "isa-debug-exit,iobase=0xf4" }, "-device isa-debug-exit,iobase=0xf4: emu models one isa-debug-exit device")]
    [InlineData(new[] { "-device", "isa-serial,index=1", "-device", "isa-serial,index=1" }, "-device isa-serial,index=1: COM2 (index 1) is already present")]
    public void DeviceRuleErrors(string[] args, string message) => Assert.Equal(message, Error([.. Firmware, .. args]));

    [Fact]
    public void DebugconDefaultsToPortE9AndTheGlobalMovesIt()
    {
        var plain = Parse("-debugcon", "file:debug.log");
        Assert.Equal(new SerialBackend(SerialBackendKind.File, "debug.log"), plain.DebugCon);
        Assert.Equal(0xE9, plain.DebugConPort);
        Assert.Equal(0x402, Parse("-debugcon", "file:debug.log", "-global", "isa-debugcon.iobase=0x402").DebugConPort);

        var device = Parse("-chardev", "file,id=dbg,path=d.log", "-device", "isa-debugcon,iobase=0x402,chardev=dbg");
        Assert.Equal(new SerialBackend(SerialBackendKind.File, "d.log"), device.DebugCon);
        Assert.Equal(0x402, device.DebugConPort);
        Assert.Null(Parse().DebugCon);
    }

    [Fact]
    public void SmbiosType11StringsKeepCommandLineOrderAcrossOptions()
    {
        Assert.Empty(Parse().OemStrings);
        var c = Parse("-smbios", "type=11,value=a,,b,path=f.txt,value=", "-smbios", "type=11,value=last");
        Assert.Equal(
            [SmbiosOemString.FromText("a,b"), SmbiosOemString.FromFile("f.txt"), SmbiosOemString.FromText(string.Empty), SmbiosOemString.FromText("last")],
            c.OemStrings);
    }

    [Fact]
    public void IsaDebugExitTakesQemusDefaultsAndNumbers()
    {
        Assert.Null(Parse().DebugExit);
        Assert.Equal(new Core.Machine.DebugExitPorts(0x501, 2), Parse("-device", "isa-debug-exit").DebugExit);
        Assert.Equal(new Core.Machine.DebugExitPorts(0xF4, 4), Parse("-device", "isa-debug-exit,iobase=0xf4,iosize=0x04,id=exit").DebugExit);
        Assert.Equal(new Core.Machine.DebugExitPorts(0x10, 8), Parse("-device", "isa-debug-exit,iobase=020,iosize=8").DebugExit);
    }

    [Fact]
    public void KeyValuesFollowQemuOpts()
    {
        var kv = QemuKeyValues.Parse("-x", "pc,,i440fx,a=1,,2,,,b,a=3", "type");
        Assert.Equal("pc,i440fx", kv.Get("type"));
        Assert.Equal("3", kv.Get("a"));
        Assert.Equal("on", kv.Get("b"));
        Assert.Null(kv.FirstUnknownKey());
    }

    [Fact]
    public void DrivesMapOntoBootsFlashUnits()
    {
        var pair = QemuBootOptions.From(QemuCommandLine.Parse([.. Firmware, "-drive", "if=pflash,unit=1,file=vars.fd,readonly=on"]));
        Assert.Equal(("code.fd", false, "vars.fd", true, null), (pair.Code, pair.CodeWritable, pair.Vars, pair.VarsReadOnly, pair.Firmware));

        var unified = QemuBootOptions.From(QemuCommandLine.Parse(["-pflash", "OVMF.fd", "-snapshot"]));
        Assert.Equal(("OVMF.fd", (string?)null, true), (unified.Firmware, unified.Code, unified.Snapshot));

        var codeOnly = QemuBootOptions.From(QemuCommandLine.Parse(Firmware));
        Assert.Equal(("code.fd", (string?)null, (string?)null), (codeOnly.Code, codeOnly.Vars, codeOnly.Firmware));

        var writableCode = QemuBootOptions.From(QemuCommandLine.Parse(["-pflash", "code.fd", "-pflash", "vars.fd"]));
        Assert.True(writableCode.CodeWritable);
        Assert.False(writableCode.VarsReadOnly);
    }

    [Fact]
    public void BiosIsTheFirmwareOnlyWithoutPflash()
    {
        var rom = QemuBootOptions.From(QemuCommandLine.Parse(["-bios", "OVMF.fd", "-nodefaults"]));
        Assert.Equal(("OVMF.fd", (string?)null, (string?)null), (rom.Bios, rom.Code, rom.Firmware));

        // pc_system_firmware_init: with a pflash drive, -bios is not used.
        var flash = QemuBootOptions.From(QemuCommandLine.Parse([.. Firmware, "-bios", "OVMF.fd"]));
        Assert.Equal(((string?)null, "code.fd"), (flash.Bios, flash.Code));
    }

    [Fact]
    public void RunsLikeQemuByDefault()
    {
        var o = QemuBootOptions.From(Parse("-nodefaults", "-serial", "stdio", "-no-reboot"));
        Assert.Equal(Emulator.Hosting.Boot.BootOptions.PaceRealTime, o.Pace);
        Assert.Equal(long.MaxValue, o.MaxInstructions);
        Assert.True(o.NoReboot);
        Assert.Equal([(Emulator.Hosting.Boot.BootOptions.SerialInputOption, "-")], o.SerialSteps);
        Assert.Equal(Emulator.Hosting.Boot.BootOptions.PaceOff, QemuBootOptions.From(Parse("-icount", "shift=0,sleep=off")).Pace);

        // No port on stdio: stdin is left alone.
        Assert.Empty(QemuBootOptions.From(Parse("-nodefaults", "-serial", "null")).SerialSteps);
    }

    [Fact]
    public void BadCommandLineExitsOneWithOneLineInProcessToo()
    {
        using var stdout = new MemoryStream();
        var stderr = new StringWriter();
        Assert.Equal(1, Emulator.Cli.CommandDispatcher.Run(["qemu", "-nodefaults", "-usb"], stdout, stderr));
        Assert.Equal("qemu-system-x86_64: -usb: not supported by emu" + Environment.NewLine, stderr.ToString());
        Assert.Equal(0, stdout.Length);

        var missing = new StringWriter();
        Assert.Equal(1, Emulator.Cli.CommandDispatcher.Run(["qemu", "-nodefaults", "-drive", "if=pflash,format=raw,file=/nonexistent/code.fd"], stdout, missing));
        Assert.StartsWith("qemu-system-x86_64: ", missing.ToString(), StringComparison.Ordinal);
        Assert.Single(missing.ToString().TrimEnd().Split('\n'));
    }
}
