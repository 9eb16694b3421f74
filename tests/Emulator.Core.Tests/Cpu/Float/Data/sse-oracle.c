/* Generates sse-oracle.txt.gz: SSE scalar results and MXCSR flags from the x86-64 host that
   wrote it, for operands where QEMU 7.2's softfloat and the hardware agree (no two NaN operands,
   FTZ off, DE ignored). Build: gcc -O0 -msse2 sse-oracle.c -o oracle && ./oracle | gzip -9 > sse-oracle.txt.gz */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <xmmintrin.h>
#include <emmintrin.h>

static uint64_t st = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return st; }

static uint64_t edge64(void) {
    static const uint64_t e[] = {0, 0x8000000000000000ull, 1, 0x000FFFFFFFFFFFFFull, 0x0010000000000000ull,
        0x7FEFFFFFFFFFFFFFull, 0x7FF0000000000000ull, 0x3FF0000000000000ull, 0x7FF8000000000000ull,
        0x7FF0000000000001ull, 0x43E0000000000000ull, 0x41E0000000000000ull, 0xC1E0000000200000ull, 0x3FE0000000000000ull};
    uint64_t r = rnd();
    switch (r & 7) {
    case 0: return e[(r >> 8) % 14] ^ ((r >> 20) & 1 ? 0x8000000000000000ull : 0);
    case 1: return (rnd() & 0x800FFFFFFFFFFFFFull);                         /* subnormal */
    case 2: return (rnd() & 0x800FFFFFFFFFFFFFull) | ((uint64_t)((r >> 8) % 60 + 1) << 52); /* tiny normal */
    case 3: return (rnd() & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(0x7FE - (r >> 8) % 60) << 52); /* huge */
    case 4: return (rnd() & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(1023 + (int)((r >> 8) % 130) - 65) << 52); /* near 1 */
    default: return rnd();
    }
}

static uint32_t edge32(void) {
    static const uint32_t e[] = {0, 0x80000000u, 1, 0x007FFFFFu, 0x00800000u, 0x7F7FFFFFu, 0x7F800000u,
        0x3F800000u, 0x7FC00000u, 0x7F800001u, 0x5F000000u, 0x4F000000u, 0xCF000000u, 0x3F000000u};
    uint64_t r = rnd();
    switch (r & 7) {
    case 0: return e[(r >> 8) % 14] ^ ((r >> 20) & 1 ? 0x80000000u : 0);
    case 1: return (uint32_t)rnd() & 0x807FFFFFu;
    case 2: return ((uint32_t)rnd() & 0x807FFFFFu) | ((uint32_t)((r >> 8) % 30 + 1) << 23);
    case 3: return ((uint32_t)rnd() & 0x807FFFFFu) | ((uint32_t)(0xFE - (r >> 8) % 30) << 23);
    case 4: return ((uint32_t)rnd() & 0x807FFFFFu) | ((uint32_t)(127 + (int)((r >> 8) % 80) - 40) << 23);
    default: return (uint32_t)rnd();
    }
}

static int nan32(uint32_t x) { return (x & 0x7FFFFFFFu) > 0x7F800000u; }
static int nan64(uint64_t x) { return (x & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull; }

#define RUN(expr) do { _mm_setcsr(csr); expr; flags = _mm_getcsr() & 0x3D; } while (0)

int main(void) {
    static const char *names[] = {"add32","sub32","mul32","div32","sqrt32","add64","sub64","mul64","div64","sqrt64",
        "cvt64to32","cvt32to64","cvt32toi32","cvtt32toi32","cvt64toi32","cvtt64toi32","cvt32toi64","cvt64toi64","cvti64to32","cvti64to64",
        "min32","max32","min64","max64"};
    for (int n = 0; n < 60000; n++) {
        int op = (int)(rnd() % 24);
        unsigned rc = (unsigned)(rnd() & 3), daz = (rnd() & 7) == 0;
        unsigned csr = 0x1F80 | (rc << 13) | (daz << 6);
        int wide = op >= 5 && op <= 9 || op == 10 || (op >= 14 && op <= 15) || op == 17 || op >= 22;
        uint64_t a, b, r = 0; unsigned flags;
        if (op == 18 || op == 19) { a = rnd() >> (rnd() % 64); if (rnd() & 1) a = -a; b = 0; }
        else if (wide) { a = edge64(); b = edge64(); if (nan64(a) && nan64(b)) continue; }
        else { a = edge32(); b = edge32(); if (nan32((uint32_t)a) && nan32((uint32_t)b)) continue; }
        float fa, fb, fr; double da, db, dr; uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
        memcpy(&fa, &ua, 4); memcpy(&fb, &ub, 4); memcpy(&da, &a, 8); memcpy(&db, &b, 8);
        __m128 xa = _mm_set_ss(fa), xb = _mm_set_ss(fb); __m128d ya = _mm_set_sd(da), yb = _mm_set_sd(db);
        switch (op) {
        case 0: RUN(fr = _mm_cvtss_f32(_mm_add_ss(xa, xb))); memcpy(&ua, &fr, 4); r = ua; break;
        case 1: RUN(fr = _mm_cvtss_f32(_mm_sub_ss(xa, xb))); memcpy(&ua, &fr, 4); r = ua; break;
        case 2: RUN(fr = _mm_cvtss_f32(_mm_mul_ss(xa, xb))); memcpy(&ua, &fr, 4); r = ua; break;
        case 3: RUN(fr = _mm_cvtss_f32(_mm_div_ss(xa, xb))); memcpy(&ua, &fr, 4); r = ua; break;
        case 4: RUN(fr = _mm_cvtss_f32(_mm_sqrt_ss(xa))); memcpy(&ua, &fr, 4); r = ua; b = 0; break;
        case 5: RUN(dr = _mm_cvtsd_f64(_mm_add_sd(ya, yb))); memcpy(&r, &dr, 8); break;
        case 6: RUN(dr = _mm_cvtsd_f64(_mm_sub_sd(ya, yb))); memcpy(&r, &dr, 8); break;
        case 7: RUN(dr = _mm_cvtsd_f64(_mm_mul_sd(ya, yb))); memcpy(&r, &dr, 8); break;
        case 8: RUN(dr = _mm_cvtsd_f64(_mm_div_sd(ya, yb))); memcpy(&r, &dr, 8); break;
        case 9: RUN(dr = _mm_cvtsd_f64(_mm_sqrt_sd(ya, ya))); memcpy(&r, &dr, 8); b = 0; break;
        case 10: RUN(fr = _mm_cvtss_f32(_mm_cvtsd_ss(xa, ya))); memcpy(&ua, &fr, 4); r = ua; b = 0; break;
        case 11: RUN(dr = _mm_cvtsd_f64(_mm_cvtss_sd(ya, xa))); memcpy(&r, &dr, 8); b = 0; break;
        case 12: RUN(r = (uint32_t)_mm_cvtss_si32(xa)); b = 0; break;
        case 13: RUN(r = (uint32_t)_mm_cvttss_si32(xa)); b = 0; break;
        case 14: RUN(r = (uint32_t)_mm_cvtsd_si32(ya)); b = 0; break;
        case 15: RUN(r = (uint32_t)_mm_cvttsd_si32(ya)); b = 0; break;
        case 16: RUN(r = (uint64_t)_mm_cvtss_si64(xa)); b = 0; break;
        case 17: RUN(r = (uint64_t)_mm_cvtsd_si64(ya)); b = 0; break;
        case 18: RUN(fr = _mm_cvtss_f32(_mm_cvtsi64_ss(xb, (int64_t)a))); memcpy(&ua, &fr, 4); r = ua; break;
        case 19: RUN(dr = _mm_cvtsd_f64(_mm_cvtsi64_sd(yb, (int64_t)a))); memcpy(&r, &dr, 8); break;
        case 20: RUN(fr = _mm_cvtss_f32(_mm_min_ss(xa, xb))); memcpy(&ua, &fr, 4); r = ua; break;
        case 21: RUN(fr = _mm_cvtss_f32(_mm_max_ss(xa, xb))); memcpy(&ua, &fr, 4); r = ua; break;
        case 22: RUN(dr = _mm_cvtsd_f64(_mm_min_sd(ya, yb))); memcpy(&r, &dr, 8); break;
        case 23: RUN(dr = _mm_cvtsd_f64(_mm_max_sd(ya, yb))); memcpy(&r, &dr, 8); break;
        }
        printf("%s %u %u %llx %llx %llx %x\n", names[op], rc, daz, (unsigned long long)a, (unsigned long long)b, (unsigned long long)r, flags);
    }
    return 0;
}
