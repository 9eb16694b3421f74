#!/usr/bin/env python3
"""Record what QEMU 7.2's PIIX3 IDE (or, with `machine q35`, its ICH9 AHCI) answers to a scripted
sequence of port accesses, for the IDE device tests
(tests/Emulator.Core.Tests/Devices/Ide/IdeQemuTranscriptTests.cs), which replay the same accesses
on emu's pc (or q35) machine and compare every value read.

usage: record-qemu-ide.py [--qemu PATH] SCRIPT [SCRIPT ...]

A SCRIPT (tests/Emulator.Core.Tests/Devices/Ide/Data/NAME.script) lists, one a line:
  machine q35                         -machine q35 instead of pc (drives on the AHCI ports; the
                                      HBA through BAR4's index/data ports; no BSY settling:
                                      a `wait` after each command)
  drive INDEX disk|cdrom SECTORS      an image of SECTORS 512-byte sectors, every byte
                                      (offset * 7 + offset / 512) & 0xFF except the first 8
                                      bytes of each 512-byte sector, its sector number (LE);
                                      attached as -drive if=ide,index=INDEX
  load ADDRESS HEXBYTES               guest memory before the run (-device loader)
  out b|w|l PORT VALUE                a port write
  in b|w|l PORT                       a port read; recorded as "in b PORT = VALUE"
  data b|w|l PORT COUNT               COUNT reads of one port; recorded with the bytes read,
                                      little-endian, as one hex string
  mem ADDRESS LENGTH                  guest memory; recorded with its bytes
  wait                                0.2 s for QEMU to finish a DMA transfer (DMA leaves BSY
                                      clear, so the recorder cannot see it running)
  # ...                               a comment, kept
QEMU runs stopped (-S): only the monitor's port and memory commands touch the machine, each one
after the previous finished and QEMU's block I/O completed (after every access the recorder
waits until no alternate status shows BSY). The
transcript, NAME.txt next to the script, holds every line with the values QEMU gave.
"""
import argparse
import os
import re
import select
import subprocess
import sys
import tempfile
import time

SIZES = {"b": "b", "w": "h", "l": "w"}
PORT_RE = re.compile(rb"port[bwl]\[0x([0-9a-f]+)\] = 0x([0-9a-f]+)")
MEM_RE = re.compile(rb"^[0-9a-f]{16}: ((?:0x[0-9a-f]{2} ?)+)", re.M)


def image(sectors):
    data = bytearray((i * 7 + i // 512) & 0xFF for i in range(sectors * 512))
    for s in range(sectors):
        data[s * 512:s * 512 + 8] = s.to_bytes(8, "little")
    return bytes(data)


class Monitor:
    def __init__(self, args):
        self.q35 = "q35" in args
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.read_until_prompt()

    def read_until_prompt(self):
        out = b""
        deadline = time.time() + 20
        while not out.endswith(b"(qemu) ") and b"(qemu) " not in out[-40:]:
            if time.time() > deadline:
                raise SystemExit("QEMU monitor timed out; output so far:\n" + out.decode(errors="replace"))
            r, _, _ = select.select([self.p.stdout], [], [], 1)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    raise SystemExit("QEMU exited:\n" + out.decode(errors="replace"))
                out += chunk
        return out

    def command(self, text):
        self.p.stdin.write(text.encode() + b"\n")
        self.p.stdin.flush()
        return self.read_until_prompt()

    def settle(self):
        if self.q35:
            return
        """Waits (up to 0.3 s) until neither channel's alternate status shows BSY: QEMU's block
        I/O has completed. A device may stay busy on purpose (an ATAPI DMA read before the bus
        master starts); the wait then ends at the deadline. The alternate status has no side
        effects."""
        deadline = time.time() + 0.3
        for port in ("0x3f6", "0x376"):
            while port_values(self.command(f"i/b {port}"))[0] & 0x80 and time.time() < deadline:
                time.sleep(0.005)

    def close(self):
        self.p.stdin.write(b"quit\n")
        self.p.stdin.flush()
        self.p.wait(10)


def record(qemu, script):
    lines = open(script).read().splitlines()
    tmp = tempfile.mkdtemp()
    machine = "q35" if "machine q35" in lines else "pc"
    args = [qemu, "-machine", machine, "-nodefaults", "-display", "none", "-S", "-m", "32", "-monitor", "stdio"]
    for n, line in enumerate(lines):
        words = line.split()
        if words[:1] == ["drive"]:
            path = os.path.join(tmp, f"drive{words[1]}.img")
            with open(path, "wb") as f:
                f.write(image(int(words[3])))
            media = ",media=cdrom" if words[2] == "cdrom" else ""
            args += ["-drive", f"file={path},format=raw,if=ide,index={words[1]}{media}"]
        elif words[:1] == ["load"]:
            path = os.path.join(tmp, f"load{n}.bin")
            with open(path, "wb") as f:
                f.write(bytes.fromhex(words[2]))
            args += ["-device", f"loader,file={path},addr={words[1]},force-raw=on"]
    mon = Monitor(args)
    out = []
    for line in lines:
        words = line.split()
        if not words or words[0] in ("#", "drive", "load", "machine"):
            out.append(line)
        elif words[0] == "wait":
            time.sleep(0.2)
            out.append(line)
        elif words[0] == "out":
            mon.command(f"o/{SIZES[words[1]]} {words[2]} {words[3]}")
            mon.settle()
            out.append(line)
        elif words[0] == "in":
            value = port_values(mon.command(f"i/{SIZES[words[1]]} {words[2]}"))[0]
            mon.settle()
            out.append(f"{line} = 0x{value:0{width(words[1]) * 2}x}")
        elif words[0] == "data":
            bytes_read = b"".join(
                port_values(mon.command(f"i/{SIZES[words[1]]} {words[2]}"))[0].to_bytes(width(words[1]), "little")
                for _ in range(int(words[3], 0)))
            mon.settle()
            out.append(f"{line} = {bytes_read.hex()}")
        elif words[0] == "mem":
            reply = mon.command(f"xp /{int(words[2], 0)}xb {words[1]}")
            values = b" ".join(MEM_RE.findall(reply)).split()
            out.append(f"{line} = {bytes(int(v, 16) for v in values).hex()}")
        else:
            raise SystemExit(f"{script}: cannot read '{line}'")
    mon.close()
    target = os.path.splitext(script)[0] + ".txt"
    with open(target, "w") as f:
        version = subprocess.run([qemu, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        f.write(f"# recorded by tools/record-qemu-ide.py from {os.path.basename(script)} on {version}\n")
        f.write("\n".join(out) + "\n")
    print(f"{target}: {len(out)} lines")


def port_values(reply):
    found = PORT_RE.findall(reply)
    if not found:
        raise SystemExit("no port value in monitor reply:\n" + reply.decode(errors="replace"))
    return [int(v, 16) for _, v in found]


def width(size):
    return {"b": 1, "w": 2, "l": 4}[size]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qemu", default="qemu-system-x86_64")
    parser.add_argument("scripts", nargs="+")
    a = parser.parse_args()
    for script in a.scripts:
        record(a.qemu, script)


if __name__ == "__main__":
    sys.exit(main())
