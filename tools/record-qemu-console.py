#!/usr/bin/env python3
"""Record QEMU 7.2's serial console for the firmware fixtures: the reference the boot tests
compare emu's console with, byte for byte (tests/Emulator.Boot.Tests/FixtureConsoleTests.cs).

usage: record-qemu-console.py [--check] [--runs N] [--quiet-seconds S] [--timeout S]
                              [--qemu PATH] [FIXTURE ...]

Each FIXTURE (default: all of them; see FIXTURES) boots on `-machine pc -m 256 -nographic
-nodefaults` with its images mapped as emu's options map them: --code/--vars as pflash unit 0
(read-only) and unit 1 (a fresh copy of the VARS file), --firmware as a writable unit 0 alone (a
fresh copy). COM1 goes to a file, so the bytes are the guest's own (a pty would turn LF into CR
LF). Once the console shows the prompt, the recorder waits until it has been quiet for
--quiet-seconds, stops QEMU and keeps the console.

Recording runs every fixture --runs times (default 2) and stores it only if every run is
byte-identical: tests/Emulator.Boot.Tests/Data/qemu72-console/FIXTURE.txt holds the console bytes
and FIXTURE.info the QEMU version, the command line, the images and their SHA-256, the date, and
the wall and CPU time to the prompt. --check boots once and compares with the stored recording
instead (exit 1 on a difference, naming the first differing line).
"""
import argparse
import datetime
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "firmware-fixtures", "cache")
OUT = os.path.join(ROOT, "tests", "Emulator.Boot.Tests", "Data", "qemu72-console")
PROMPT = b"Shell>"

# name -> images relative to firmware-fixtures/cache: {"code", "vars"} or {"firmware"}; the
# -machine value when it is not "pc" (the q35 recordings: the boot tests build emu's Q35 board for
# them; the secboot builds need Q35 with SMM, QEMU's TCG default); "globals", -global options
# (the flash chips' secure=on as libvirt sets it for Secure Boot, the 2 MB secboot builds'
# ICH9-LPC.disable_s3=1 as Debian passes it); "binary", qemu-system-i386 for the IA32 builds
# (QEMU's qemu32 CPU); "end", the console text of the end state when it is not the Shell prompt
# (with Microsoft's or the snakeoil keys enrolled, Secure Boot refuses the unsigned Shell and BDS
# waits at "Press any key to enter the Boot Manager Menu."; trixie's Secure Boot builds carry no
# Shell at all and end there too).
SECURE = ["driver=cfi.pflash01,property=secure,value=on"]
NO_S3 = ["ICH9-LPC.disable_s3=1"]
BOOT_MANAGER = "Boot Manager Menu."
FIXTURES = {
    "bookworm-2m": {"code": "OVMF_CODE.fd", "vars": "OVMF_VARS.fd"},
    "bookworm-4m": {"code": "OVMF_CODE_4M.fd", "vars": "OVMF_VARS_4M.fd"},
    "bookworm-unified": {"firmware": "OVMF.fd"},
    "trixie-4m": {"code": "trixie/OVMF_CODE_4M.fd", "vars": "trixie/OVMF_VARS_4M.fd"},
    "trixie-unified": {"firmware": "trixie/OVMF.fd"},
    "trixie-ia32-4m": {"code": "trixie/OVMF32_CODE_4M.fd", "vars": "trixie/OVMF32_VARS_4M.fd"},
    "bookworm-4m-q35": {"code": "OVMF_CODE_4M.fd", "vars": "OVMF_VARS_4M.fd", "machine": "q35,smm=off"},
    "bookworm-2m-secboot": {"code": "OVMF_CODE.secboot.fd", "vars": "OVMF_VARS.fd", "machine": "q35", "globals": SECURE + NO_S3},
    "bookworm-2m-secboot-ms": {"code": "OVMF_CODE.secboot.fd", "vars": "OVMF_VARS.ms.fd", "machine": "q35", "globals": SECURE + NO_S3, "end": BOOT_MANAGER},
    "bookworm-4m-secboot": {"code": "OVMF_CODE_4M.secboot.fd", "vars": "OVMF_VARS_4M.fd", "machine": "q35", "globals": SECURE},
    "bookworm-4m-secboot-ms": {"code": "OVMF_CODE_4M.secboot.fd", "vars": "OVMF_VARS_4M.ms.fd", "machine": "q35", "globals": SECURE, "end": BOOT_MANAGER},
    "bookworm-4m-secboot-snakeoil": {"code": "OVMF_CODE_4M.secboot.fd", "vars": "OVMF_VARS_4M.snakeoil.fd", "machine": "q35", "globals": SECURE, "end": BOOT_MANAGER},
    "bookworm-ia32-4m-secboot": {"code": "OVMF32_CODE_4M.secboot.fd", "vars": "OVMF32_VARS_4M.fd", "machine": "q35", "globals": SECURE, "binary": "qemu-system-i386"},
    "trixie-4m-secboot": {"code": "trixie/OVMF_CODE_4M.secboot.fd", "vars": "trixie/OVMF_VARS_4M.fd", "machine": "q35", "globals": SECURE, "end": BOOT_MANAGER},
    "trixie-4m-secboot-strictnx": {"code": "trixie/OVMF_CODE_4M.secboot.strictnx.fd", "vars": "trixie/OVMF_VARS_4M.fd", "machine": "q35", "globals": SECURE, "end": BOOT_MANAGER},
    "trixie-4m-secboot-ms": {"code": "trixie/OVMF_CODE_4M.secboot.fd", "vars": "trixie/OVMF_VARS_4M.ms.fd", "machine": "q35", "globals": SECURE, "end": BOOT_MANAGER},
    "trixie-4m-secboot-snakeoil": {"code": "trixie/OVMF_CODE_4M.secboot.fd", "vars": "trixie/OVMF_VARS_4M.snakeoil.fd", "machine": "q35", "globals": SECURE, "end": BOOT_MANAGER},
    "trixie-ia32-4m-secboot": {"code": "trixie/OVMF32_CODE_4M.secboot.fd", "vars": "trixie/OVMF32_VARS_4M.fd", "machine": "q35", "globals": SECURE, "binary": "qemu-system-i386", "end": BOOT_MANAGER},
    "bookworm-4m-secboot-q35": {"code": "OVMF_CODE_4M.secboot.fd", "vars": "OVMF_VARS_4M.fd", "machine": "q35"},
}


class RecordError(Exception):
    pass


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def qemu_version(qemu):
    try:
        out = subprocess.run([qemu, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise RecordError(f"cannot run {qemu} --version: {e}")
    first = out.splitlines()[0]
    if " 7.2" not in first:
        raise RecordError(f"{qemu} is not QEMU 7.2 ({first}): the recordings are QEMU 7.2's")
    return first


def command_line(qemu, images, console, work):
    """The argv, and the same with the temporary paths named for the .info file."""
    if "binary" in images:
        qemu = os.path.join(os.path.dirname(qemu), images["binary"])
    argv = [qemu, "-machine", images.get("machine", "pc"), "-m", "256", "-nographic", "-nodefaults", "-serial", "file:" + console]
    shown = [os.path.basename(qemu)] + argv[1:-1] + ["file:<console>"]
    for g in images.get("globals", []):
        argv += ["-global", g]
        shown += ["-global", g]
    drive = "if=pflash,format=raw,unit={},{}file={}"
    for role in ("code", "vars", "firmware"):
        if role not in images:
            continue
        source = os.path.join(CACHE, images[role])
        if not os.path.isfile(source):
            raise RecordError(f"{source} is missing: run firmware-fixtures/fetch.sh")
        unit = 1 if role == "vars" else 0
        if role == "code":
            path, shown_path, flags = source, "firmware-fixtures/cache/" + images[role], "readonly=on,"
        else:
            # The guest writes its variables: every run starts from a fresh copy, as emu's --snapshot does.
            path = os.path.join(work, os.path.basename(images[role]))
            shutil.copyfile(source, path)
            shown_path, flags = f"<copy of firmware-fixtures/cache/{images[role]}>", ""
        argv += ["-drive", drive.format(unit, flags, path)]
        shown += ["-drive", drive.format(unit, flags, shown_path)]
    return argv, " ".join(shown)


def cpu_seconds(pid):
    """User + system CPU time the process has used (/proc/PID/stat utime and stime): unlike wall
    time, it hardly grows when other work shares the cores."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def boot(qemu, name, quiet_seconds, timeout):
    """One boot: (console bytes, shown command line, (wall, CPU) seconds to the prompt)."""
    with tempfile.TemporaryDirectory(prefix="qemu-console-") as work:
        console = os.path.join(work, "console.txt")
        argv, shown = command_line(qemu, FIXTURES[name], console, work)
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        prompt_at = None
        size, changed = -1, started
        try:
            while True:
                time.sleep(0.02)
                now = time.monotonic()
                if proc.poll() is not None:
                    raise RecordError(f"{name}: QEMU exited with status {proc.returncode} before the prompt: "
                                      + proc.stderr.read().decode(errors="replace").strip())
                current = os.path.getsize(console) if os.path.exists(console) else 0
                if current != size:
                    size, changed = current, now
                    if prompt_at is None and current > 0:
                        with open(console, "rb") as f:
                            if end_marker(name) in f.read():
                                prompt_at = (now - started, cpu_seconds(proc.pid))
                if prompt_at is not None and now - changed >= quiet_seconds:
                    break
                if now - started > timeout:
                    raise RecordError(f"{name}: no {end_marker(name).decode()} within {timeout} s "
                                      f"({size} console bytes; the last line: {last_line(console)!r})")
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
        with open(console, "rb") as f:
            return f.read(), shown, prompt_at


def end_marker(name):
    """What the console shows at the fixture's end state: the Shell prompt unless it says otherwise."""
    return FIXTURES[name]["end"].encode() if "end" in FIXTURES[name] else PROMPT


def last_line(path):
    if not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    return lines[-1].decode(errors="replace") if lines[-1] else (lines[-2].decode(errors="replace") if len(lines) > 1 else "")


def first_difference(a, b):
    """The first line (1-based) where two consoles differ, and both versions of it."""
    la, lb = a.split(b"\n"), b.split(b"\n")
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else b"<end>"
        y = lb[i] if i < len(lb) else b"<end>"
        if x != y:
            return f"line {i + 1}: {x!r} vs {y!r}"
    return "no line differs"


def info_text(name, qemu_ver, shown, console, prompt_times, quiet_seconds):
    images = FIXTURES[name]
    lines = [
        "# QEMU 7.2's console for this fixture, recorded by tools/record-qemu-console.py; the boot",
        "# tests read the images to boot from here and compare emu's console with the .txt beside it.",
        f"fixture: {name}",
    ]
    for role in ("code", "vars", "firmware"):
        if role in images:
            lines.append(f"{role}: {images[role]}")
            lines.append(f"{role}-sha256: {sha256(os.path.join(CACHE, images[role]))}")
    if "machine" in images:
        lines.append(f"machine: {images['machine']}")
    if "globals" in images:
        lines.append(f"globals: {' '.join(images['globals'])}")
    if "binary" in images:
        lines.append(f"binary: {images['binary']}")
    if "end" in images:
        lines.append(f"end: {images['end']}")
    walls = ", ".join(f"{t[0]:.2f}" for t in prompt_times)
    cpus = ", ".join(f"{t[1]:.2f}" for t in prompt_times)
    lines += [
        f"qemu: {qemu_ver}",
        f"command: {shown}",
        f"recorded: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"stopped: {quiet_seconds:g} s after the console's last byte, the end state ({end_marker(name).decode()}) shown",
        f"wall-seconds-to-prompt: {walls} (one per run, from starting QEMU; the countdown takes 5 s of it)",
        f"cpu-seconds-to-prompt: {cpus} (QEMU's user + system time by then)",
        f"runs: {len(prompt_times)}, byte-identical",
        f"console-bytes: {len(console)}",
        f"console-sha256: {hashlib.sha256(console).hexdigest()}",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures", nargs="*", metavar="FIXTURE", help="default: " + " ".join(FIXTURES))
    parser.add_argument("--check", action="store_true", help="compare one boot with the stored recording")
    parser.add_argument("--runs", type=int, default=2, help="boots per fixture that must agree (default 2)")
    parser.add_argument("--quiet-seconds", type=float, default=5.0, help="quiet after the prompt before stopping (default 5)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds allowed to reach the prompt (default 180)")
    parser.add_argument("--qemu", default="/usr/bin/qemu-system-x86_64",
                        help="QEMU 7.2 (default /usr/bin/qemu-system-x86_64: not tools/, which is emu's drop-in)")
    args = parser.parse_args()
    names = args.fixtures or list(FIXTURES)
    unknown = [n for n in names if n not in FIXTURES]
    if unknown:
        parser.error(f"unknown fixture(s) {' '.join(unknown)}; known: {' '.join(FIXTURES)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    failed = False
    try:
        version = qemu_version(args.qemu)
        for name in names:
            stored = os.path.join(OUT, name + ".txt")
            if args.check:
                console, _, prompt_at = boot(args.qemu, name, args.quiet_seconds, args.timeout)
                if not os.path.exists(stored):
                    raise RecordError(f"{name}: no recording at {stored}")
                with open(stored, "rb") as f:
                    reference = f.read()
                same = console == reference
                failed |= not same
                print(f"{name}: prompt after {prompt_at[0]:.2f} s wall, {prompt_at[1]:.2f} s CPU; " + ("identical to the recording" if same else
                      "DIFFERS from the recording, " + first_difference(reference, console)))
                continue
            runs = [boot(args.qemu, name, args.quiet_seconds, args.timeout) for _ in range(args.runs)]
            consoles = [r[0] for r in runs]
            for i, other in enumerate(consoles[1:], 2):
                if other != consoles[0]:
                    raise RecordError(f"{name}: run {i} differs from run 1, {first_difference(consoles[0], other)}; not stored")
            os.makedirs(OUT, exist_ok=True)
            with open(stored, "wb") as f:
                f.write(consoles[0])
            with open(os.path.join(OUT, name + ".info"), "w") as f:
                f.write(info_text(name, version, runs[0][1], consoles[0], [r[2] for r in runs], args.quiet_seconds))
            print(f"{name}: {len(consoles[0])} bytes, {args.runs} identical run(s), prompt after "
                  + ", ".join(f"{r[2][0]:.2f} s wall ({r[2][1]:.2f} s CPU)" for r in runs))
    except RecordError as e:
        print(f"record-qemu-console: {e}", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
