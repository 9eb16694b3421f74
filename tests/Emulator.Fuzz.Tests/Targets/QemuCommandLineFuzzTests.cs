using Emulator.Cli.CommandLine;
using Emulator.Cli.Qemu;
using Emulator.Fuzz.Tests.Support;
using Emulator.Hosting.Qemu;
using Emulator.Hosting;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// The QEMU drop-in's command line (QemuCommandLine, QemuKeyValues, QemuDevices, and the boot
/// options it becomes): any argument list is a configuration or one <see cref="UsageException"/>,
/// never another exception — the drop-in prints that one line as <c>qemu-system-x86_64: ...</c>.
/// </summary>
[Trait("Category", "Fuzz")]
public class QemuCommandLineFuzzTests
{
    private const string Target = "qemu-command-line";

    /// <summary>Command lines as harnesses write them: emu's own drop-in tests, Debian's edk2 autopkgtest, libvirt.</summary>
    public static readonly string[][] Seeds =
    [
        ["-nodefaults", "-no-user-config", "-display", "none", "-machine", "pc,accel=tcg", "-m", "256M",
            "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd",
            "-drive", "file=/tmp/vars,,copy.fd,format=raw,unit=1,if=pflash", "-serial", "stdio", "-serial", "file:/tmp/com2.log"],
        ["-no-user-config", "-nodefaults", "-m", "256", "-smp", "1,sockets=1,cores=1,threads=1", "-display", "none", "-serial", "stdio",
            "-machine", "pc,accel=tcg", "-drive", "if=pflash,format=raw,unit=0,file=/usr/share/OVMF/OVMF_CODE_4M.fd,readonly=on",
            "-drive", "if=pflash,format=raw,unit=1,file=vars.fd", "-chardev", "pty,id=charserial1",
            "-device", "isa-serial,chardev=charserial1,id=serial1", "-global", "driver=cfi.pflash01,property=secure,value=off"],
        ["-machine", "pc-i440fx-7.2,accel=kvm:tcg,usb=off,smm=off,hpet=off", "-accel", "tcg,thread=single", "-cpu", "qemu64", "-m", "size=512M",
            "-nographic", "-pflash", "code.fd", "-pflash", "vars,,1.fd", "-debugcon", "file:debug.log", "-global", "isa-debugcon.iobase=0x402",
            "-no-reboot", "-no-shutdown", "-snapshot", "-name", "guest=ovmf", "-icount", "shift=0,sleep=off"],
        ["-nodefaults", "-bios", "OVMF.fd", "-chardev", "file,id=log,path=com.log,append=on", "-chardev", "stdio,id=con,signal=on,mux=off",
            "-device", "isa-serial,chardev=con,index=0", "-device", "isa-serial,chardev=log", "-device", "isa-debugcon,chardev=dbg,iobase=0xe9",
            "-chardev", "null,id=dbg", "-vga", "none", "-net", "none", "-nic", "none", "-parallel", "none", "-monitor", "none", "-no-hpet"],
        ["--version"], ["-h"], ["-serial", "mon:stdio", "-serial", "pty", "-serial", "null", "-serial", "none", "-serial", "chardev:c0", "-chardev", "null,id=c0", "-bios", "x"],
    ];

    public static readonly string[] Vocabulary =
    [
        "-machine", "-M", "-accel", "-m", "-smp", "-cpu", "-drive", "-pflash", "-global", "-display", "-vga", "-monitor", "-net", "-nic",
        "-serial", "-chardev", "-device", "-debugcon", "-parallel", "-name", "-icount", "-bios", "-nodefaults", "-no-user-config",
        "-nographic", "-no-reboot", "-no-shutdown", "-snapshot", "-no-hpet", "-version", "-h", "-help", "--drive", "--m", "-enable-kvm",
        "-readconfig", "-kernel", "-", "--", "-=", "pc", "q35", "pc-i440fx-7.2", "pc-i440fx-", "type=pc", "accel=tcg", "accel=kvm:tcg", "tcg", "kvm",
        "hpet=off", "hpet=maybe", "smm=on", "usb=off", "thread=multi", "256M", "1G", "16T", "0", "1", "-1", "0x10", "4096K", "size=", "size=2G",
        "18446744073709551616", "cpus=2", "maxcpus=1", "qemu64", "host", "if=pflash", "if=ide", "format=raw", "format=qcow2", "unit=0", "unit=1",
        "unit=2", "unit=-1", "unit=99999999999", "index=1", "readonly=on", "readonly=off", "readonly", "snapshot=on", "snapshot=maybe", "file=",
        "file=code.fd", "file=a,,b", "media=disk", "cache=none", "id=x", "stdio", "mon:stdio", "file:", "file:x", "chardev:", "chardev:c0",
        "null", "none", "pty", "vc", "isa-serial", "isa-debugcon", "virtio-net", "driver=isa-serial", "chardev=c0", "chardev=", "id=c0",
        "index=0", "index=3", "index=4", "index=", "iobase=0x402", "iobase=0xe9", "iobase=0x", "iobase=65536", "path=", "path=x", "append=on",
        "signal=off", "mux=on", "backend=file", "file,id=c0", "stdio,id=c0", "pty,id=c0", "null,id=c0", "isa-debugcon.iobase=0x402",
        "isa-debugcon.iobase=", ".=", "a.b=c", "cfi.pflash01.secure=on", "driver=cfi.pflash01,property=secure,value=on", "driver=",
        "property=", "value=", "shift=0", "shift=1", "sleep=off", "sleep=", "guest=x", ",", ",,", ",,,", "=", "", ".", "=,=", "a=b=c",
        "if=virtio", "if=none", "virtio-blk-pci", "drive=x", "drive=", "addr=", "addr=0x5", "addr=1f.0", "addr=5.1", "addr=0xffffffffff", "addr=.",
        "virtio-blk-pci,drive=x", "virtio-blk-pci,drive=x,addr=3", "media=cdrom",
    ];

    [Fact]
    public void MutatedCommandLines() =>
        CommandLineFuzz.Run(Target, CommandLineFuzz.Of(Seeds, Vocabulary), Parse, e => e is UsageException);

    [Fact]
    public void SeedsThemselvesParse()
    {
        // The seeds must reach the deep paths: every one of them is a valid command line.
        foreach (var seed in Seeds)
        {
            Parse(seed);
        }
    }

    private static void Parse(string[] args) => QemuBootOptions.From(QemuCommandLine.Parse(args));
}
