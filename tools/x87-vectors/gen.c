/*
 * x87 reference vectors from the host's FPU (x86-64, gcc): operands drawn by the splitmix64 stream
 * and edge-biased generator that tests/Emulator.Core.Tests/Cpu/Float/X87VectorSource.cs mirrors,
 * each operation run under FCW = 0x7F | PC << 8 | RC << 10 (all exceptions masked). Prints one line
 * per (operation, RC, PC) group: the FNV-1a digest of every result's bytes and its status bits
 * (IE ZE OE UE PE, C0 C2 C3 for compares; DE and C1 are left out: QEMU 7.2 never sets DE and does
 * not report C1 round-up). Usage: gen COUNT > x87-vectors.txt; gen COUNT OP RC PC dumps one
 * group's records as text (operands, result, status) for debugging.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint64_t sig; uint16_t se; } __attribute__((packed)) f80;

static uint64_t state;
static uint64_t next(void)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint16_t gen_exp(void)
{
    uint64_t r = next();
    switch (r % 8) {
    case 0: return 0;
    case 1: return 0x7fff;
    case 2: return 1 + (r >> 8) % 64;
    case 3: return 0x7ffe - (r >> 8) % 64;
    case 4: return (r >> 8) & 0x7fff;
    default: return 0x3fff - 64 + (r >> 8) % 128;
    }
}

static uint64_t gen_sig(void)
{
    uint64_t r = next();
    switch (r % 8) {
    case 0: return 0x8000000000000000ULL;
    case 1: return ~0ULL;
    case 2: return 0x8000000000000000ULL | (next() & next() & next());
    case 3: return next();
    case 4: return 0xFFFFFFFFFFFFFFFFULL << ((r >> 8) % 64);
    default: return next() | 0x8000000000000000ULL;
    }
}

static f80 gen80(void)
{
    f80 v;
    uint64_t r = next();
    v.se = gen_exp() | ((r & 1) << 15);
    v.sig = gen_sig();
    return v;
}

static f80 gen80_near(f80 a)
{
    f80 v = gen80();
    uint64_t r = next();
    if (r % 2) {
        int e = (a.se & 0x7fff) + (int)((r >> 8) % 5) - 2;
        if (e < 0) e = 0;
        if (e > 0x7fff) e = 0x7fff;
        v.se = (v.se & 0x8000) | e;
        if (r & 0x100000) v.sig = a.sig ^ (next() & 0xFF);
    }
    return v;
}

static uint64_t gen_bits(int fracbits, int expbits)
{
    uint64_t r = next();
    uint64_t emax = (1ULL << expbits) - 1, e;
    switch (r % 6) {
    case 0: e = 0; break;
    case 1: e = emax; break;
    case 2: e = 1 + (r >> 8) % 4; break;
    default: e = (r >> 8) & emax; break;
    }
    uint64_t f = next() & ((1ULL << fracbits) - 1);
    if ((r >> 20) % 4 == 0) f &= next();
    uint64_t s = (r >> 30) & 1;
    return (s << (fracbits + expbits)) | (e << fracbits) | f;
}

enum { ADD, SUB, MUL, DIV, SQRT, RNDINT, ST32, ST64, LD32, LD64, IST16, IST32, IST64, ILD64, COM, UCOM, NOPS };
static const char *names[NOPS] = { "add", "sub", "mul", "div", "sqrt", "frndint", "fst32", "fst64",
    "fld32", "fld64", "fist16", "fist32", "fist64", "fild64", "fcom", "fucom" };

/* ST(0) = a, ST(1) = b; ST(0) op= ST(1); the result stored as m80. */
#define BINARY(insn) do { \
        __asm__ volatile("fninit; fldcw %3; fldt %2; fldt %1; " insn " %%st(1), %%st; fnstsw %0; fstpt %4; fstp %%st(0)" \
                         : "=m"(sw) : "m"(a), "m"(b), "m"(cw), "m"(r)); \
        memcpy(out, &r, 10); *outlen = 10; } while (0)
#define UNARY(insn) do { \
        __asm__ volatile("fninit; fldcw %2; fldt %1; " insn "; fnstsw %0; fstpt %3" : "=m"(sw) : "m"(a), "m"(cw), "m"(r)); \
        memcpy(out, &r, 10); *outlen = 10; } while (0)
#define STORE(insn, v) do { \
        __asm__ volatile("fninit; fldcw %2; fldt %1; " insn " %3; fnstsw %0" : "=m"(sw) : "m"(a), "m"(cw), "m"(v)); \
        memcpy(out, &v, sizeof v); *outlen = sizeof v; } while (0)
#define LOAD(insn, v) do { \
        __asm__ volatile("fninit; fldcw %2; " insn " %1; fnstsw %0; fstpt %3" : "=m"(sw) : "m"(v), "m"(cw), "m"(r)); \
        memcpy(out, &r, 10); *outlen = 10; } while (0)

/* Runs one operation; out receives the result bytes, returns the status word. */
static uint16_t run(int op, uint16_t cw, f80 a, f80 b, uint64_t bits, unsigned char *out, int *outlen)
{
    uint16_t sw = 0;
    f80 r;
    switch (op) {
    case ADD: BINARY("fadd"); break;
    case SUB: BINARY("fsub"); break;
    case MUL: BINARY("fmul"); break;
    case DIV: BINARY("fdiv"); break;
    case SQRT: UNARY("fsqrt"); break;
    case RNDINT: UNARY("frndint"); break;
    case ST32: { uint32_t v; STORE("fstps", v); break; }
    case ST64: { uint64_t v; STORE("fstpl", v); break; }
    case LD32: { uint32_t v = (uint32_t)bits; LOAD("flds", v); break; }
    case LD64: LOAD("fldl", bits); break;
    case IST16: { uint16_t v; STORE("fistps", v); break; }
    case IST32: { uint32_t v; STORE("fistpl", v); break; }
    case IST64: { uint64_t v; STORE("fistpll", v); break; }
    case ILD64: LOAD("fildll", bits); break;
    case COM:
        __asm__ volatile("fninit; fldcw %3; fldt %2; fldt %1; fcom %%st(1); fnstsw %0; fstp %%st(0); fstp %%st(0)"
                         : "=m"(sw) : "m"(a), "m"(b), "m"(cw));
        *outlen = 0;
        break;
    case UCOM:
        __asm__ volatile("fninit; fldcw %3; fldt %2; fldt %1; fucom %%st(1); fnstsw %0; fstp %%st(0); fstp %%st(0)"
                         : "=m"(sw) : "m"(a), "m"(b), "m"(cw));
        *outlen = 0;
        break;
    }
    return sw & ((op == COM || op == UCOM) ? 0x453D : 0x3D);
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 100000;
    int dump = argc > 4;
    for (int op = 0; op < NOPS; op++) {
        for (int rc = 0; rc < 4; rc++) {
            for (int pc = 0; pc < 4; pc++) {
                if (pc == 1) continue;
                if (dump && (op != atoi(argv[2]) || rc != atoi(argv[3]) || pc != atoi(argv[4]))) continue;
                state = 0x5EED0000ULL + op * 64 + rc * 4 + pc;
                uint64_t h = 0xcbf29ce484222325ULL;
                uint16_t cw = 0x7F | (pc << 8) | (rc << 10);
                for (long i = 0; i < count; i++) {
                    f80 a = gen80();
                    f80 b = gen80_near(a);
                    uint64_t bits = op == LD32 ? gen_bits(23, 8) : op == LD64 ? gen_bits(52, 11) : next();
                    unsigned char out[10];
                    int len;
                    uint16_t sw = run(op, cw, a, b, bits, out, &len);
                    for (int k = 0; k < len; k++) { h ^= out[k]; h *= 0x100000001b3ULL; }
                    h ^= sw & 0xff; h *= 0x100000001b3ULL;
                    h ^= sw >> 8; h *= 0x100000001b3ULL;
                    if (dump) {
                        printf("%ld %04x:%016llx %04x:%016llx %016llx -> ", i, a.se, (unsigned long long)a.sig,
                               b.se, (unsigned long long)b.sig, (unsigned long long)bits);
                        for (int k = len - 1; k >= 0; k--) printf("%02x", out[k]);
                        printf(" sw %04x\n", sw);
                    }
                }
                if (!dump) printf("%s %d %d %ld %016llx\n", names[op], rc, pc, count, (unsigned long long)h);
            }
        }
    }
    return 0;
}
