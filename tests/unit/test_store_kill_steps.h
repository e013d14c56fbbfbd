/* The kill test's script, shared by the helper that runs it and the test that checks what
 * survived. Step s, in one transaction:
 *   add "s<s>-<j>" for j < KILL_BATCH (vector kill_vector(s, j, 0)), and give those with an
 *   even j the attribute "step" = s (an integer);
 *   remove "s<s-2>-<j>" for j % 4 == 0;
 *   upsert "s<s-1>-1" with kill_vector(s - 1, 1, s);
 *   upsert "progress" with payload "<s>" (vector kill_vector(-1, 0, s));
 * then commit. Every 5th step also saves the snapshot; every 9th rebuilds the index,
 * alternating between hnsw and flat. */
#ifndef TEST_STORE_KILL_STEPS_H
#define TEST_STORE_KILL_STEPS_H

#include <stdint.h>

#define KILL_DIM 8
#define KILL_BATCH 20

/* A deterministic, never-zero vector for (step, j, version). */
static inline void kill_vector(float* out, long step, long j, long version) {
  uint64_t x = (uint64_t)(step + 7) * 1000003u + (uint64_t)j * 7919u + (uint64_t)version * 104729u;
  int i;
  for (i = 0; i < KILL_DIM; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = (float)((double)(x >> 40) / (double)(1ull << 24)) - 0.5f;
  }
  out[0] += 2.0f; /* keeps it away from zero */
}

#endif
