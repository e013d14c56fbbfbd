/* Runs the kill test's script (test_store_kill_steps.h) on collection DIR, from the step after
 * the last committed one, until it is killed; prints "ready" once the collection is open and
 * "committed <s>" after each commit.
 * Written against cbir.h only. Usage: test_store_kill_helper DIR */
#include <stdio.h>
#include <stdlib.h>

#include "cbir.h"
#include "test_store_kill_steps.h"

static void check(int status, const char* what) {
  if (status != CBIR_OK) {
    fprintf(stderr, "helper: %s: %s\n", what, cbir_last_error());
    exit(2);
  }
}

static void upsert_one(cbir_collection_t* c, const char* uri, const char* payload,
                       const float* v) {
  cbir_item_t item = {0};
  item.uri = uri;
  item.payload = payload;
  check(cbir_collection_upsert(NULL, c, &item, v, 1, KILL_DIM), "upsert");
}

int main(int argc, char** argv) {
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  cbir_collection_t* c = NULL;
  cbir_item_t* progress = NULL;
  long step = 0;
  char uris[KILL_BATCH][64];
  cbir_item_t items[KILL_BATCH];
  float vecs[KILL_BATCH * KILL_DIM];
  if (argc != 2) return 2;
  o.flags = CBIR_OPEN_CREATE;
  o.dim = KILL_DIM;
  o.fingerprint = "kill-test";
  o.index_spec = "flat";
  check(cbir_collection_open(&c, argv[1], &o), "open");
  {
    int64_t id = 0;
    if (cbir_collection_find(&id, c, "progress") == CBIR_OK) {
      check(cbir_collection_get(&progress, c, id), "get progress");
      step = atol(progress->payload) + 1;
      cbir_free(progress);
    }
  }
  printf("ready\n");
  fflush(stdout);
  for (;; ++step) {
    char uri[64], payload[32];
    float v[KILL_DIM];
    int j;
    for (j = 0; j < KILL_BATCH; ++j) {
      snprintf(uris[j], sizeof uris[j], "s%ld-%d", step, j);
      items[j] = (cbir_item_t){0};
      items[j].uri = uris[j];
      kill_vector(vecs + j * KILL_DIM, step, j, 0);
    }
    {
      int64_t ids[KILL_BATCH];
      cbir_attr_t attrs[KILL_BATCH / 2];
      check(cbir_collection_add(ids, c, items, vecs, KILL_BATCH, KILL_DIM), "add");
      for (j = 0; j < KILL_BATCH; j += 2) {
        attrs[j / 2] = (cbir_attr_t){0};
        attrs[j / 2].id = ids[j];
        attrs[j / 2].key = "step";
        attrs[j / 2].type = CBIR_ATTR_INT;
        attrs[j / 2].int_value = step;
      }
      check(cbir_collection_set_attrs(NULL, c, attrs, KILL_BATCH / 2), "set_attrs");
    }
    for (j = 0; step >= 2 && j < KILL_BATCH; j += 4) {
      snprintf(uri, sizeof uri, "s%ld-%d", step - 2, j);
      check(cbir_collection_remove_uri(c, uri), "remove");
    }
    if (step >= 1) {
      snprintf(uri, sizeof uri, "s%ld-1", step - 1);
      kill_vector(v, step - 1, 1, step);
      upsert_one(c, uri, NULL, v);
    }
    snprintf(payload, sizeof payload, "%ld", step);
    kill_vector(v, -1, 0, step);
    upsert_one(c, "progress", payload, v);
    check(cbir_collection_commit(c), "commit");
    printf("committed %ld\n", step);
    fflush(stdout);
    if (step % 5 == 4) check(cbir_collection_save(c), "save");
    if (step % 9 == 8) check(cbir_collection_rebuild(c, step % 18 == 8 ? "hnsw:M=8" : "flat"), "rebuild");
  }
}
