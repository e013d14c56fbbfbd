/* A second process for the concurrency test: tries to open collection DIR for writing (it must
 * get CBIR_ELOCKED while the test holds it), then opens it read-only and searches it with the
 * stored vector of item URI (it must find that item first).
 * Prints "writer <status> <message>" and "reader <count> <top id> <id of URI>".
 * Written against cbir.h only. Usage: test_store_probe_helper DIR URI */
#include <stdio.h>

#include "cbir.h"

int main(int argc, char** argv) {
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  cbir_collection_t* c = NULL;
  uint64_t count = 0;
  int64_t id = -1, top = -1;
  float v[256], score = 0;
  cbir_collection_info_t* info = NULL;
  int status;
  if (argc != 3) return 2;
  status = cbir_collection_open(&c, argv[1], &o);
  printf("writer %d %s\n", status, cbir_last_error());
  if (status == CBIR_OK) cbir_collection_close(c);
  o.flags = CBIR_OPEN_READONLY;
  if (cbir_collection_open(&c, argv[1], &o) != CBIR_OK || cbir_collection_count(&count, c) != CBIR_OK ||
      cbir_collection_find(&id, c, argv[2]) != CBIR_OK || cbir_collection_info(&info, c) != CBIR_OK ||
      info->dim > 256 || cbir_collection_get_vector(v, (size_t)info->dim, c, id) != CBIR_OK ||
      cbir_collection_search(&top, &score, c, v, 1, (size_t)info->dim, 1, NULL) != CBIR_OK) {
    fprintf(stderr, "probe: reader failed: %s\n", cbir_last_error());
    return 1;
  }
  printf("reader %llu %lld %lld\n", (unsigned long long)count, (long long)top, (long long)id);
  cbir_free(info);
  cbir_collection_close(c);
  return 0;
}
