/* Filtered search (issue 19): p50 of one query at a time over N items through the C API,
 * unfiltered and with filter expressions that keep about 1% and 50% of the items, on the same
 * collection and index. Each item's width is its index modulo 100, so "width = 7" keeps 1% and
 * "width < 50" keeps 50%. The collection is made once under DIR (kept for the next run).
 *
 *   bench/filter/run.sh [--build DIR] [--n N] [--spec SPEC] [--queries Q] [--dir DIR]
 */
#include <sys/stat.h>

#include "../c_bench.h"

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* A random unit vector; width is the index modulo 100, so "width = 7" keeps 1%. */
static void fill(size_t i, float* v, cbir_item_t* item) {
  random_unit(v);
  item->width = (int32_t)(i % 100);
  item->height = 480;
  item->size = (int64_t)i;
}

/* Gives every item, once, the string attribute album = "a<i % 100>" (item id i + 1): so
 * "attr.album = 'a7'" keeps 1%, and "attr.album < 'a5'" (a0..a4 and a10..a49 as strings)
 * about half. */
static void add_albums(const char* path, size_t n) {
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  cbir_collection_t* c = NULL;
  check(cbir_collection_open(&c, path, &o), "open for attributes");
  cbir_attr_t* have = NULL;
  size_t n_have = 0;
  check(cbir_collection_get_attrs(&have, &n_have, c, 1), "attrs");
  cbir_free(have);
  if (n_have == 0) {
    double t0 = now_ms();
    const size_t batch = 10000;
    cbir_attr_t* a = calloc(batch, sizeof(cbir_attr_t));
    char(*values)[8] = malloc(batch * 8);
    for (size_t at = 0; at < n; at += batch) {
      size_t m = n - at < batch ? n - at : batch;
      for (size_t i = 0; i < m; ++i) {
        snprintf(values[i], 8, "a%zu", (at + i) % 100);
        a[i] = (cbir_attr_t){0};
        a[i].id = (int64_t)(at + i + 1); /* ids count from 1 in a fresh collection */
        a[i].key = "album";
        a[i].type = CBIR_ATTR_STRING;
        a[i].string_value = values[i];
      }
      check(cbir_collection_set_attrs(NULL, c, a, m), "set_attrs");
    }
    check(cbir_collection_commit(c), "commit attributes");
    printf("set %zu attributes in %.1f s\n", n, (now_ms() - t0) / 1e3);
    free(a), free(values);
  }
  cbir_collection_close(c);
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
    make_collection(path, n, spec, "bench-filter", fill);
    printf("made %s (%zu items, %s) in %.0f s\n", path, n, spec, (now_ms() - t0) / 1e3);
  }
  check(cbir_set_threads(1), "threads");
  add_albums(path, n);
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  o.flags = CBIR_OPEN_READONLY;
  cbir_collection_t* c = NULL;
  check(cbir_collection_open(&c, path, &o), "open");
  const char* filters[] = {NULL, "width = 7", "width < 50", "width = 7 and size < 500000",
                           "attr.album = 'a7'", "attr.album < 'a5'"};
  const char* names[] = {"unfiltered", "1% (width = 7)", "50% (width < 50)",
                         "0.5% (width = 7 and size < 500000)", "1% (attr.album = 'a7')",
                         "50% (attr.album < 'a5', a string attribute)"};
  float* q = malloc(DIM * sizeof(float));
  int64_t out_ids[10];
  float out_scores[10];
  double* t = malloc(queries * sizeof(double));
  double base = 0;
  printf("| filter | p50 ms | p95 ms | vs unfiltered |\n| --- | ---: | ---: | ---: |\n");
  for (int f = 0; f < 6; ++f) {
    rng_state = 12345;
    cbir_search_options_t so = CBIR_SEARCH_OPTIONS_INIT;
    so.where = filters[f];
    for (size_t i = 0; i < queries + 2; ++i) {
      random_unit(q);
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
