/* Opening a bundle with and without checking its files' sha256 (cbir_model_options_t
 * verify_hashes), both towers, best of 3 each; the difference is the hashing.
 *
 *   cc -O2 bench/model/bench_open.c -Iinclude -Lbuild/lib -lcbir -o /tmp/bench_open
 *   LD_LIBRARY_PATH=build/lib /tmp/bench_open BUNDLE
 *
 * Built without an rpath, so LD_LIBRARY_PATH picks the libcbir to time: run it against two
 * builds (before and after a change) in the same session. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <time.h>

#include "cbir.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  int verify, round;
  if (argc != 2) {
    fprintf(stderr, "usage: bench_open BUNDLE\n");
    return 2;
  }
  for (verify = 1; verify >= 0; --verify) {
    double best = 1e9;
    for (round = 0; round < 3; ++round) {
      cbir_model_options_t o = CBIR_MODEL_OPTIONS_INIT;
      cbir_model_t* m = NULL;
      double t;
      o.device = "cpu";
      o.verify_hashes = verify;
      t = now();
      if (cbir_model_open(&m, argv[1], &o) != CBIR_OK) {
        fprintf(stderr, "bench_open: %s\n", cbir_last_error());
        return 1;
      }
      t = now() - t;
      cbir_model_close(m);
      if (t < best) best = t;
    }
    printf("verify_hashes=%d: open %.3f s\n", verify, best);
  }
  return 0;
}
