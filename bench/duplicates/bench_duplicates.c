/* Duplicate groups (issue 19): cbir_collection_duplicates over N items (512-d), one thread,
 * against the reference of the same N k-NN searches (k = 65, batches of 256) through
 * cbir_collection_search: the groups' own cost is the ratio's excess. Every 100th item gets a
 * near copy (cos ~0.998), so 1% of the items form pairs. Peak memory (ru_maxrss) is printed
 * after each step and compared with the vectors' own size: O(n^2) memory would be
 * n^2 bytes at least (10 GB at 100k). The collection is made once under DIR.
 *
 *   bench/duplicates/run.sh [--build DIR] [--n N] [--spec SPEC] [--dir DIR]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "cbir.h"

#define DIM 512

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double peak_mb(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

static void check(int st, const char* what) {
  if (st != CBIR_OK) {
    fprintf(stderr, "bench_duplicates: %s: %s\n", what, cbir_last_error());
    exit(1);
  }
}

static unsigned long long rng_state = 88172645463325252ULL;
static float uniform(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
}

static void make(const char* dir, size_t n, const char* spec) {
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  o.flags = CBIR_OPEN_CREATE;
  o.dim = DIM;
  o.fingerprint = "bench-duplicates";
  o.index_spec = "flat";
  cbir_collection_t* c = NULL;
  check(cbir_collection_open(&c, dir, &o), "create");
  const size_t batch = 10000;
  float* vecs = malloc(batch * DIM * sizeof(float));
  cbir_item_t* items = calloc(batch, sizeof(cbir_item_t));
  char(*uris)[32] = malloc(batch * 32);
  for (size_t at = 0; at < n; at += batch) {
    size_t m = n - at < batch ? n - at : batch;
    for (size_t i = 0; i < m; ++i) {
      float* v = vecs + i * DIM;
      if ((at + i) % 100 == 1 && i > 0) /* a near copy of the item before */
        for (int j = 0; j < DIM; ++j) v[j] = v[j - DIM] + 0.002f * uniform();
      else
        for (int j = 0; j < DIM; ++j) v[j] = uniform();
      snprintf(uris[i], 32, "/photos/%zu.jpg", at + i);
      memset(&items[i], 0, sizeof items[i]);
      items[i].uri = uris[i];
    }
    check(cbir_collection_add(NULL, c, items, vecs, m, DIM), "add");
  }
  check(cbir_collection_commit(c), "commit");
  if (strcmp(spec, "flat") != 0) check(cbir_collection_rebuild(c, spec), "rebuild");
  check(cbir_collection_save(c), "save");
  cbir_collection_close(c);
  free(vecs), free(items), free(uris);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* lines as they come, also into a file */
  size_t n = 100000;
  const char* spec = "flat";
  const char* dir = "bench/out/duplicates-collection";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--n")) n = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--spec")) spec = argv[i + 1];
    else if (!strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  char path[4096];
  snprintf(path, sizeof path, "%s-%zu-%s", dir, n, spec);
  for (char* p = path + strlen(dir); *p; ++p) /* a folder name without ':' or ',' */
    if (*p == ':' || *p == ',' || *p == '=') *p = '_';
  struct stat st;
  if (stat(path, &st) != 0) {
    double t0 = now_s();
    make(path, n, spec);
    printf("made %s (%zu items, %s) in %.0f s\n", path, n, spec, now_s() - t0);
  }
  check(cbir_set_threads(1), "threads");
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  o.flags = CBIR_OPEN_READONLY;
  cbir_collection_t* c = NULL;
  check(cbir_collection_open(&c, path, &o), "open");
  const double vectors_mb = (double)n * DIM * 4 / 1048576;
  printf("opened: peak RSS %.0f MB (the vectors alone: %.0f MB)\n", peak_mb(), vectors_mb);

  /* Reference: the same k-NN searches, their results dropped. */
  const size_t batch = 256, k = 65;
  float* q = malloc(batch * DIM * sizeof(float));
  float* scores = malloc(batch * k * sizeof(float));
  int64_t* ids = malloc(batch * k * sizeof(int64_t));
  int64_t* list = malloc(batch * sizeof(int64_t));
  cbir_search_options_t so = CBIR_SEARCH_OPTIONS_INIT;
  so.min_score = 0.95f;
  double t0 = now_s();
  int64_t after = -1;
  for (;;) {
    size_t m = 0;
    check(cbir_collection_list(list, &m, c, after, batch), "list");
    if (m == 0) break;
    for (size_t i = 0; i < m; ++i)
      check(cbir_collection_get_vector(q + i * DIM, DIM, c, list[i]), "vector");
    check(cbir_collection_search(ids, scores, c, q, m, DIM, k, &so), "search");
    after = list[m - 1];
  }
  const double reference = now_s() - t0;
  printf("reference (%zu searches, k = %zu): %.1f s, peak RSS %.0f MB\n", n, k, reference, peak_mb());

  int64_t* gids = NULL;
  size_t* offsets = NULL;
  size_t groups = 0;
  t0 = now_s();
  check(cbir_collection_duplicates(&gids, &offsets, &groups, c, 0.95f, NULL), "duplicates");
  const double dup = now_s() - t0;
  size_t members = groups ? offsets[groups] : 0;
  printf("duplicates (threshold 0.95): %zu groups, %zu items, %.1f s = %.2fx the reference, "
         "peak RSS %.0f MB\n", groups, members, dup, dup / reference, peak_mb());
  printf("| items | index | reference s | duplicates s | ratio | groups | peak RSS MB | vectors MB |\n");
  printf("| %zu | %s | %.1f | %.1f | %.2fx | %zu | %.0f | %.0f |\n", n, spec, reference, dup,
         dup / reference, groups, peak_mb(), vectors_mb);
  cbir_free(gids);
  cbir_free(offsets);
  cbir_collection_close(c);
  free(q), free(scores), free(ids), free(list);
  return 0;
}
