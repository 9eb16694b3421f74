#!/usr/bin/env python3
"""A firmware test harness as teams write them: pexpect drives qemu-system-x86_64 through a
pseudo-terminal, answers the console, and judges the run by what it shows and by the exit status.

usage: qemu_harness.py RESULT.json TIMEOUT STEP... -- COMMAND [ARG...]
  STEP: expect:TEXT | send:TEXT (Python escapes: \\x1b, \\r) | eof | sleep:SECONDS
        | alive (fails if the process has ended) | signal:N (sends signal N to it)
RESULT.json gets {"ok", "failed_step", "exitstatus", "signalstatus", "output", "elapsed"}.
COMMAND is looked up on PATH, so the test decides which qemu-system-x86_64 answers.
"""
import codecs
import json
import sys
import time

import pexpect


def main():
    result_path, timeout = sys.argv[1], float(sys.argv[2])
    split = sys.argv.index("--")
    steps, command = sys.argv[3:split], sys.argv[split + 1:]
    started = time.monotonic()
    child = pexpect.spawn(command[0], command[1:], timeout=timeout, echo=False)
    log = bytearray()
    failed = None
    for i, step in enumerate(steps):
        kind, _, text = step.partition(":")
        try:
            if kind == "expect":
                child.expect_exact(text.encode())
                log += child.before + child.after
            elif kind == "send":
                child.send(codecs.decode(text, "unicode_escape").encode("latin-1"))
            elif kind == "eof":
                child.expect(pexpect.EOF)
                log += child.before
            elif kind == "sleep":
                time.sleep(float(text))
            elif kind == "alive":
                if not child.isalive():
                    raise pexpect.EOF("the process ended")
            elif kind == "signal":
                child.kill(int(text))
            else:
                raise ValueError("unknown step " + step)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            failed = {"index": i, "step": step, "error": type(e).__name__}
            log += child.before if isinstance(child.before, bytes) else b""
            break
    if failed is None or failed["error"] == "EOF":
        child.wait() if child.isalive() else None
    else:
        child.terminate(force=True)
    child.close()
    with open(result_path, "w") as f:
        json.dump({
            "ok": failed is None,
            "failed_step": failed,
            "exitstatus": child.exitstatus,
            "signalstatus": child.signalstatus,
            "output": log.decode("latin-1"),
            "elapsed": time.monotonic() - started,
        }, f)


if __name__ == "__main__":
    main()
