# Shared by the benchmark scripts (source it): run one emulator and time, from process start, the
# first appearance of the Shell banner ("UEFI Interactive Shell") and of the prompt on its serial
# console, answering the Shell's countdown with ESC as soon as it shows, as a harness would.
#
#   serial_marks [--until banner|prompt] [--serial-file PATH] -- COMMAND...
#
# Prints one line of fields: "banner=S prompt=S cpu=S" (seconds; nan when not seen). --until
# banner kills the process at the banner, so cpu is what it spent to get there; --until prompt
# (the default) types "reset -s" at Shell> and waits for it to power off. cpu is the process's
# user+sys time over all its threads (os.wait4's rusage: the process the command became, and any
# children it waited for). The console is the command's stdout, or, with --serial-file, a file the
# emulator writes (Bochs' "com1: mode=file"), polled every 5 ms.
serial_marks() {
  python3 - "$@" <<'PY'
import os, re, signal, subprocess, sys, time
args = sys.argv[1:]
until, serial_file = "prompt", None
while args and args[0] != "--":
    if args[0] == "--until":
        until, args = args[1], args[2:]
    elif args[0] == "--serial-file":
        serial_file, args = args[1], args[2:]
    else:
        sys.exit(f"serial_marks: unknown option {args[0]}")
cmd = args[1:]
start = time.monotonic()
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL if serial_file else subprocess.PIPE,
                     stderr=subprocess.DEVNULL)
text, marks = b"", {}
strip = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]")
def chunks():
    if serial_file is None:
        while chunk := os.read(p.stdout.fileno(), 4096):
            yield chunk
        return
    offset = 0
    while True:
        try:
            with open(serial_file, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            offset += len(chunk)
            yield chunk
        elif p.poll() is not None:
            return
        else:
            time.sleep(0.005)
def send(data):
    try:
        p.stdin.write(data); p.stdin.flush()
    except BrokenPipeError:
        pass
killed = False
for chunk in chunks():
    text += chunk
    plain = strip.sub(b"", text)
    now = time.monotonic() - start
    if "banner" not in marks and b"UEFI Interactive Shell" in plain:
        marks["banner"] = now
        if until == "banner":
            p.kill(); killed = True
            break
    if "countdown" not in marks and b"Press ESC in" in plain:
        marks["countdown"] = now
        send(b"\x1b")
    if "prompt" not in marks and b"Boot Manager Menu." in plain:
        marks.setdefault("banner", now)
        marks["prompt"] = now
        p.kill(); killed = True
        break
    if "prompt" not in marks and b"Shell>" in plain:
        marks["prompt"] = now
        send(b"reset -s\r")
    if "prompt" in marks and now - marks["prompt"] > 30:
        p.kill(); killed = True
        break
if not killed and p.poll() is None and until == "banner":
    p.kill()
_, status, usage = os.wait4(p.pid, 0)
cpu = usage.ru_utime + usage.ru_stime
print(f"banner={marks.get('banner', float('nan')):.3f} prompt={marks.get('prompt', float('nan')):.3f} cpu={cpu:.3f}")
PY
}

# The value of one field (banner, prompt, cpu) of a serial_marks line.
mark_field() { # line, field
  local field
  for field in $1; do
    [[ $field == "$2="* ]] && { echo "${field#*=}"; return; }
  done
  echo nan
}
