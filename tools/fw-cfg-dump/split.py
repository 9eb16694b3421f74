#!/usr/bin/env python3
"""Splits fw-cfg-dump's COM1 output into files and prints what QEMU served (docs/fw-cfg.md "q35").

usage: split.py OUT.BIN OUTDIR [PROBES]   (PROBES = number of SMI_PROBE lines the image was built with)
Prints the probe results, the directory (selector, name, size), the ACPI tables in etc/acpi/tables
(offset, signature, length, revision) and the table-loader commands.
"""
import os
import struct
import sys

CAP = 0x4000


def main():
    data = open(sys.argv[1], 'rb').read()
    outdir = sys.argv[2]
    probes = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    pos = 0
    for i in range(probes):
        print(f'probe {i}: dma status {data[pos]:#04x}, features-ok {data[pos + 1]}')
        pos += 2
    print('requested-features', data[pos:pos + 8].hex(), '| supported write status', hex(data[pos + 8]),
          '| supported-features', data[pos + 9:pos + 17].hex())
    pos += 17
    directory = data[pos:pos + 2052]
    pos += 2052
    os.makedirs(outdir, exist_ok=True)
    files = {}
    for i in range(struct.unpack('>I', directory[:4])[0]):
        entry = directory[4 + 64 * i:68 + 64 * i]
        size, key = struct.unpack('>IH', entry[:6])
        name = entry[8:].rstrip(b'\0').decode()
        take = min(size, CAP)
        files[name] = data[pos:pos + take]
        pos += take
        open(os.path.join(outdir, name.replace('/', '_')), 'wb').write(files[name])
        print(f'{key:#06x} {name} {size}')
    assert data[pos:pos + 2] == b'\xee\xee', 'output does not end with the EE EE marker'
    tables = files.get('etc/acpi/tables', b'')
    at = 64
    while at + 8 <= len(tables) and tables[at] != 0:
        length = struct.unpack('<I', tables[at + 4:at + 8])[0]
        print(f'  table @{at} {tables[at:at + 4].decode()} length {length} rev {tables[at + 8]}')
        at += length
    loader = files.get('etc/table-loader', b'')
    for i in range(0, len(loader), 128):
        e = loader[i:i + 128]
        command = struct.unpack('<I', e[:4])[0]
        name = e[4:60].rstrip(b'\0').decode()
        if command == 1:
            print(f'  ALLOCATE {name} align {struct.unpack("<I", e[60:64])[0]} zone {e[64]}')
        elif command == 2:
            print(f'  ADD_POINTER {name}+{struct.unpack("<I", e[116:120])[0]} ({e[120]} bytes) -> {e[60:116].rstrip(bytes(1)).decode()}')
        elif command == 3:
            print(f'  ADD_CHECKSUM {name} result/start/length {struct.unpack("<III", e[60:72])}')


if __name__ == '__main__':
    main()
