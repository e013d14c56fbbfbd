/* Duplicate groups (issue 19): cbir_collection_duplicates over N items (512-d), one thread,
 * against the reference of the same N k-NN searches (k = 65, batches of 256) through
 * cbir_collection_search: the groups' own cost is the ratio's excess. Every 100th item gets a
 * near copy (cos ~0.998), so 1% of the items form pairs. Peak memory (ru_maxrss) is printed
 * after each step and compared with the vectors' own size: O(n^2) memory would be
 * n^2 bytes at least (10 GB at 100k). The collection is made once under DIR.
 *
 *   bench/duplicates/run.sh [--build DIR] [--n N] [--spec SPEC] [--dir DIR]
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include "../c_bench.h"

static double peak_mb(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

/* Random vectors; every 100th a near copy of the one before it. */
static void fill(size_t i, float* v, cbir_item_t* item) {
  (void)item;
  if (i % 100 == 1 && i % 10000 > 0)
    for (int j = 0; j < DIM; ++j) v[j] = v[j - DIM] + 0.002f * uniform();
  else
    for (int j = 0; j < DIM; ++j) v[j] = uniform();
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
    double t0 = now_ms() / 1e3;
    make_collection(path, n, spec, "bench-duplicates", fill);
    printf("made %s (%zu items, %s) in %.0f s\n", path, n, spec, now_ms() / 1e3 - t0);
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
  double t0 = now_ms() / 1e3;
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
  const double reference = now_ms() / 1e3 - t0;
  printf("reference (%zu searches, k = %zu): %.1f s, peak RSS %.0f MB\n", n, k, reference, peak_mb());

  int64_t* gids = NULL;
  size_t* offsets = NULL;
  size_t groups = 0;
  t0 = now_ms() / 1e3;
  check(cbir_collection_duplicates(&gids, &offsets, &groups, c, 0.95f, NULL, NULL, NULL), "duplicates");
  const double dup = now_ms() / 1e3 - t0;
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
