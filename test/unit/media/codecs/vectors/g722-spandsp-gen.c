/* Reference vectors for callwatch's G.722 from Debian's libspandsp (0.0.6).
 * Build: gcc -O2 -o gen gen.c -l:libspandsp.so.2   Run: ./gen OUTDIR */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
typedef struct g722_encode_state_s g722_encode_state_t;
typedef struct g722_decode_state_s g722_decode_state_t;
g722_encode_state_t *g722_encode_init(g722_encode_state_t *s, int rate, int options);
int g722_encode(g722_encode_state_t *s, uint8_t g722_data[], const int16_t amp[], int len);
g722_decode_state_t *g722_decode_init(g722_decode_state_t *s, int rate, int options);
int g722_decode(g722_decode_state_t *s, int16_t amp[], const uint8_t g722_data[], int len);

#define N 32000 /* 2 s at 16 kHz */
static uint32_t seed = 12345;
static uint32_t lcg(void) { seed = seed * 1103515245u + 12345u; return seed >> 8; }

/* The same integer-only signal as test/unit/media/codecs/g722.test.ts's makeInput():
 * a triangle sweep, then LCG noise at rising levels, then full-scale square waves. */
static int16_t input(int i) {
  if (i < 12000) {
    int period = 4 + (i / 400);               /* 4..33 samples */
    int ph = i % period, half = period / 2;
    int tri = ph < half ? ph * 2 * 20000 / half - 20000 : 20000 - (ph - half) * 2 * 20000 / (period - half);
    return (int16_t)tri;
  }
  if (i < 24000) {
    int level = 1 + (i - 12000) / 1500;        /* 1..8 */
    int v = (int)(lcg() & 0xffff) - 32768;
    return (int16_t)(v * level / 8);
  }
  int period = 2 + ((i - 24000) / 1000) * 3;  /* square waves, 2..23 samples */
  return ((i / period) & 1) ? 32767 : -32768;
}

int main(int argc, char **argv) {
  static int16_t pcm[N], dec[N], dec2[N * 2];
  static uint8_t bits[N / 2], rnd[N / 2];
  char path[512];
  for (int i = 0; i < N; i++) pcm[i] = input(i);
  g722_encode_state_t *e = g722_encode_init(NULL, 64000, 0);
  int nb = 0;
  for (int off = 0; off < N; off += 320) nb += g722_encode(e, bits + nb, pcm + off, 320);
  g722_decode_state_t *d = g722_decode_init(NULL, 64000, 0);
  int ns = 0;
  for (int off = 0; off < nb; off += 160) ns += g722_decode(d, dec + ns, bits + off, 160);
  /* Decoding arbitrary bytes: every code, in LCG order. */
  seed = 777;
  for (int i = 0; i < N / 2; i++) rnd[i] = (uint8_t)(lcg() & 0xff);
  g722_decode_state_t *d2 = g722_decode_init(NULL, 64000, 0);
  int ns2 = g722_decode(d2, dec2, rnd, N / 2);
  FILE *f;
  snprintf(path, sizeof path, "%s/g722-ref.g722", argv[1]); f = fopen(path, "wb"); fwrite(bits, 1, nb, f); fclose(f);
  snprintf(path, sizeof path, "%s/g722-ref.dec.raw", argv[1]); f = fopen(path, "wb"); fwrite(dec, 2, ns, f); fclose(f);
  snprintf(path, sizeof path, "%s/g722-rnd.dec.raw", argv[1]); f = fopen(path, "wb"); fwrite(dec2, 2, ns2, f); fclose(f);
  snprintf(path, sizeof path, "%s/g722-ref.in.raw", argv[1]); f = fopen(path, "wb"); fwrite(pcm, 2, N, f); fclose(f);
  printf("encoded %d bytes, decoded %d samples, random decoded %d samples\n", nb, ns, ns2);
  return 0;
}
