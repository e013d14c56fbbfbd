/* Filtered search (issue 19): p50 of one query at a time over N items through the C API,
 * unfiltered and with filter expressions that keep about 1% and 50% of the items, on the same
 * collection and index. Each item's width is its index modulo 100, so "width = 7" keeps 1% and
 * "width < 50" keeps 50%. The collection is made once under DIR (kept for the next run).
 *
 *   bench/filter/run.sh [--build DIR] [--n N] [--spec SPEC] [--queries Q] [--dir DIR]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cbir.h"

#define DIM 512

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void check(int st, const char* what) {
  if (st != CBIR_OK) {
    fprintf(stderr, "bench_filter: %s: %s\n", what, cbir_last_error());
    exit(1);
  }
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Deterministic pseudo-random unit vectors (xorshift). */
static unsigned long long rng_state = 88172645463325252ULL;
static float uniform(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
}
static void unit(float* v) {
  double s = 0;
  for (int j = 0; j < DIM; ++j) {
    v[j] = uniform();
    s += (double)v[j] * v[j];
  }
  for (int j = 0; j < DIM; ++j) v[j] = (float)(v[j] / sqrt(s));
}

static void make(const char* dir, size_t n, const char* spec) {
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  o.flags = CBIR_OPEN_CREATE;
  o.dim = DIM;
  o.fingerprint = "bench-filter";
  o.index_spec = "flat";
  cbir_collection_t* c = NULL;
  check(cbir_collection_open(&c, dir, &o), "create");
  const size_t batch = 10000;
  float* vecs = malloc(batch * DIM * sizeof(float));
  cbir_item_t* items = calloc(batch, sizeof(cbir_item_t));
  char(*uris)[32] = malloc(batch * 32);
  int64_t* ids = malloc(batch * sizeof(int64_t));
  for (size_t at = 0; at < n; at += batch) {
    size_t m = n - at < batch ? n - at : batch;
    for (size_t i = 0; i < m; ++i) {
      unit(vecs + i * DIM);
      snprintf(uris[i], 32, "/photos/%zu.jpg", at + i);
      memset(&items[i], 0, sizeof items[i]);
      items[i].uri = uris[i];
      items[i].width = (int32_t)((at + i) % 100);
      items[i].height = 480;
      items[i].size = (int64_t)(at + i);
    }
    check(cbir_collection_add(ids, c, items, vecs, m, DIM), "add");
  }
  check(cbir_collection_commit(c), "commit");
  if (strcmp(spec, "flat") != 0) check(cbir_collection_rebuild(c, spec), "rebuild");
  check(cbir_collection_save(c), "save");
  cbir_collection_close(c);
  free(vecs), free(items), free(uris), free(ids);
}

int main(int argc, char** argv) {
  size_t n = 1000000, queries = 30;
  const char* spec = "ivf:nlist=1024,nprobe=32,code=sq8";
  const char* dir = "bench/out/filter-collection";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--n")) n = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--spec")) spec = argv[i + 1];
    else if (!strcmp(argv[i], "--queries")) queries = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  char path[4096];
  snprintf(path, sizeof path, "%s-%zu", dir, n);
  struct stat st;
  if (stat(path, &st) != 0) {
    double t0 = now_ms();
    make(path, n, spec);
    printf("made %s (%zu items, %s) in %.0f s\n", path, n, spec, (now_ms() - t0) / 1e3);
  }
  check(cbir_set_threads(1), "threads");
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  o.flags = CBIR_OPEN_READONLY;
  cbir_collection_t* c = NULL;
  check(cbir_collection_open(&c, path, &o), "open");
  const char* filters[] = {NULL, "width = 7", "width < 50", "width = 7 and size < 500000"};
  const char* names[] = {"unfiltered", "1% (width = 7)", "50% (width < 50)",
                         "0.5% (width = 7 and size < 500000)"};
  float* q = malloc(DIM * sizeof(float));
  int64_t out_ids[10];
  float out_scores[10];
  double* t = malloc(queries * sizeof(double));
  double base = 0;
  printf("| filter | p50 ms | p95 ms | vs unfiltered |\n| --- | ---: | ---: | ---: |\n");
  for (int f = 0; f < 4; ++f) {
    rng_state = 12345;
    cbir_search_options_t so = CBIR_SEARCH_OPTIONS_INIT;
    so.where = filters[f];
    for (size_t i = 0; i < queries + 2; ++i) {
      unit(q);
      double t0 = now_ms();
      check(cbir_collection_search(out_ids, out_scores, c, q, 1, DIM, 10, &so), "search");
      if (i >= 2) t[i - 2] = now_ms() - t0; /* two warm-up queries */
    }
    qsort(t, queries, sizeof(double), cmp_double);
    double p50 = t[queries / 2], p95 = t[(size_t)(queries * 0.95)];
    if (f == 0) base = p50;
    printf("| %s | %.2f | %.2f | %.1fx |\n", names[f], p50, p95, p50 / base);
  }
  cbir_collection_close(c);
  free(q), free(t);
  return 0;
}
