; fw-cfg-dump: a 64 KiB -bios image that shows what QEMU's fw_cfg serves (docs/fw-cfg.md "q35").
; It programs the q35 registers QEMU's ACPI build reads as OVMF does (MCH PCIEXBAR 0xB0000001,
; ICH9 PMBASE 0x601 + ACPI_CNTL.ACPI_EN), then writes to COM1, raw:
;   1. for each value in probes.inc (SMI_PROBE lines, may be empty): the DMA status byte of writing
;      it to etc/smi/requested-features, then the etc/smi/features-ok byte;
;   2. requested-features (8 bytes), the DMA status of writing supported-features, supported (8);
;   3. the file directory (key 0x19, 2052 bytes) and each file's first min(size, 16 KiB) bytes in
;      directory order; then EE EE.
; The file keys below are q35's (0x28-0x2A); on pc the probe bytes are meaningless.
; Build: nasm -f bin fw-cfg-dump.asm -o fw-cfg-dump.bin
; Run:   qemu-system-x86_64 -machine q35,accel=tcg -nodefaults -m 256 -smp 1 -display none \
;          -serial file:out.bin -bios fw-cfg-dump.bin      (then: python3 split.py out.bin outdir)
bits 16
org 0

%macro SMI_PROBE 1
    mov eax, %1
    call smiprobe
%endmacro

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    ; MCH PCIEXBAR (00:00.0 0x60/0x64)
    mov eax, 0x80000060
    call cfgaddr
    xor eax, eax
    out dx, eax
    mov eax, 0x80000064
    call cfgaddr
    xor eax, eax
    out dx, eax
    mov eax, 0x80000060
    call cfgaddr
    mov eax, 0xB0000001
    out dx, eax
    ; ICH9 PMBASE (00:1f.0 0x40) <- 0x601, ACPI_CNTL 0x44 |= 0x80
    mov eax, 0x8000F840
    call cfgaddr
    mov eax, 0x601
    out dx, eax
    mov eax, 0x8000F844
    call cfgaddr
    in al, dx
    or al, 0x80
    out dx, al
%include "probes.inc"     ; e.g. "SMI_PROBE 3" per line
    ; requested-features read back (8 bytes)
    mov ax, [cs:reqkey]
    mov ecx, 8
    call dumpkey
    ; a DMA write to supported-features (read-only): its status, then the file
    mov ax, [cs:supkey]
    mov ebx, 0x7F
    call dmawrite
    mov al, [0x1000+3]
    call putc
    mov ax, [cs:supkey]
    mov ecx, 8
    call dumpkey
    ; directory
    mov ax, 0x19
    mov ecx, 2052
    call dumpkey
    ; re-read directory entries: count
    mov ax, 0x19
    mov dx, 0x510
    out dx, ax
    call rd32be          ; ebx = count
    mov bp, bx
    mov si, 0x3000       ; table of (size32,key16)
.ent:
    test bp, bp
    jz .ents_done
    call rd32be
    mov [si], ebx
    call rd16be
    mov [si+4], bx
    mov cx, 58           ; reserved 2 + name 56
.skip: 
    mov dx, 0x511
    in al, dx
    loop .skip
    add si, 8
    dec bp
    jmp .ent
.ents_done:
    mov word [si+4], 0   ; terminator key 0
    mov si, 0x3000
.dumpfiles:
    mov ax, [si+4]
    test ax, ax
    jz .files_done
    mov ecx, [si]
    cmp ecx, 0x4000
    jbe .ok
    mov ecx, 0x4000
.ok:
    push si
    call dumpkey
    pop si
    add si, 8
    jmp .dumpfiles
.files_done:
    ; marker
    mov al, 0xEE
    call putc
    mov al, 0xEE
    call putc
.halt:
    hlt
    jmp .halt

; eax = requested value: DMA write requested-features (8 bytes LE), then select features-ok and read 1 byte, output it
smiprobe:
    mov ebx, eax
    mov ax, [cs:reqkey]
    call dmawrite
    mov al, [0x1000+3]   ; control low byte (BE status) after transfer
    call putc
    mov ax, [cs:okkey]
    mov ecx, 1
    call dumpkey
    ret

; ax = key, ebx = low 32 of 64-bit LE value: DMA select+write 8 bytes from 0x2000
dmawrite:
    mov dword [0x2000], ebx
    mov dword [0x2004], 0
    ; control = key<<16 | SELECT | WRITE, big-endian
    xchg al, ah          ; key BE in ax
    mov word [0x1000], ax
    mov byte [0x1002], 0
    mov byte [0x1003], 0x18
    mov dword [0x1004], 0x08000000  ; length 8 BE
    mov dword [0x1008], 0
    mov dword [0x100C], 0x00200000  ; address 0x2000 BE (low dword bytes 00 00 20 00)
    mov dx, 0x514
    xor eax, eax
    out dx, eax
    mov dx, 0x518
    mov eax, 0x00100000  ; bswap(0x1000)
    out dx, eax
    ret

cfgaddr:
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    ret

; read a big-endian 32- or 16-bit value from the data port into ebx
rd32be:
    mov cx, 4
    jmp rdbe
rd16be:
    mov cx, 2
rdbe:
    xor ebx, ebx
.l: shl ebx, 8
    mov dx, 0x511
    in al, dx
    mov bl, al
    loop .l
    ret

; ax = key, ecx = count: select and copy bytes to COM1
dumpkey:
    mov dx, 0x510
    out dx, ax
.l: jecxz .d
    mov dx, 0x511
    in al, dx
    call putc
    dec ecx
    jmp .l
.d: ret

putc:
    mov dx, 0x3F8
    out dx, al
    ret

reqkey: dw 0x29
okkey: dw 0x28
supkey: dw 0x2a

times 0xFFF0-($-$$) db 0
    jmp 0xF000:start
times 0x10000-($-$$) db 0
