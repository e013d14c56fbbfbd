/*
 * search_folder: index a folder of images with cbir, then search it by text and by image.
 *
 *   search_folder MODEL_DIR IMAGE_DIR COLLECTION_DIR [-k K] [-t TEXT]... [-i IMAGE]...
 *
 * The collection folder is created on the first run; later runs only index what changed.
 * Every cbir call's status is checked; on failure cbir_last_error() says what went wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbir.h>

/* Prints the message of the cbir call that just failed on this thread. */
static int report(int status, const char* what) {
  fprintf(stderr, "error: %s: %s (%s)\n", what, cbir_last_error(), cbir_status_str(status));
  return status;
}

/* Shows progress on stderr; returning nonzero would cancel the run. */
static int on_progress(void* user, const cbir_ingest_progress_t* p) {
  (void)user;
  fprintf(stderr, "\rindexing: %llu/%llu files", (unsigned long long)p->done,
          (unsigned long long)p->total);
  if (p->done == p->total) fputc('\n', stderr);
  return 0;
}

static int index_folder(cbir_collection_t* coll, const cbir_model_t* model, const char* dir) {
  cbir_ingest_options_t opts = CBIR_INGEST_OPTIONS_INIT;
  opts.progress = on_progress;
  cbir_ingest_report_t* rep = NULL;
  int status = cbir_ingest_dir(&rep, coll, model, dir, &opts);
  if (status != CBIR_OK) return report(status, "indexing");

  cbir_ingest_summary_t sum;
  sum.version = sizeof sum;
  cbir_ingest_report_summary(&sum, rep);
  printf("indexed %s: %llu found, %llu added, %llu unchanged, %llu failed\n", dir,
         (unsigned long long)sum.found, (unsigned long long)sum.added,
         (unsigned long long)sum.unchanged, (unsigned long long)sum.failed);
  for (size_t i = 0; i < cbir_ingest_report_failures(rep); ++i) {
    const char* path;
    const char* message;
    cbir_ingest_report_failure(rep, i, &path, NULL, &message);
    printf("failed: %s: %s\n", path, message);
  }
  cbir_ingest_report_free(rep);
  return CBIR_OK;
}

/* Prints the k best items for one query vector. */
static int print_hits(const cbir_collection_t* coll, const float* query, size_t dim, size_t k) {
  int64_t* ids = malloc(k * sizeof *ids);
  float* scores = malloc(k * sizeof *scores);
  int status = ids && scores ? cbir_collection_search(ids, scores, coll, query, 1, dim, k, NULL)
                             : CBIR_ENOMEM;
  for (size_t i = 0; status == CBIR_OK && i < k && ids[i] != -1; ++i) {
    cbir_item_t* item = NULL;
    status = cbir_collection_get(&item, coll, ids[i]);
    if (status == CBIR_OK) printf("  %zu. %.3f %s\n", i + 1, scores[i], item->uri);
    cbir_free(item);
  }
  if (status != CBIR_OK) report(status, "searching");
  free(ids);
  free(scores);
  return status;
}

static int search_text(const cbir_collection_t* coll, const cbir_model_t* model, size_t dim,
                       const char* text, size_t k) {
  float* query = malloc(dim * sizeof *query);
  if (!query) return CBIR_ENOMEM;
  int status = cbir_model_embed_texts(query, model, &text, 1);
  if (status == CBIR_OK) {
    printf("text \"%s\":\n", text);
    status = print_hits(coll, query, dim, k);
  } else {
    report(status, text);
  }
  free(query);
  return status;
}

static int search_image(const cbir_collection_t* coll, const cbir_model_t* model, size_t dim,
                        const char* path, size_t k) {
  float* query = malloc(dim * sizeof *query);
  if (!query) return CBIR_ENOMEM;
  int32_t item_status = CBIR_OK;
  int status = cbir_model_embed_image_files(query, &item_status, model, &path, 1);
  if (status == CBIR_OK && item_status != CBIR_OK) {
    /* The batch ran, but this image failed: its own message says why. */
    fprintf(stderr, "error: %s (%s)\n", cbir_model_item_error(0), cbir_status_str(item_status));
    status = item_status;
  } else if (status != CBIR_OK) {
    report(status, path);
  } else {
    printf("image \"%s\":\n", path);
    status = print_hits(coll, query, dim, k);
  }
  free(query);
  return status;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODEL_DIR IMAGE_DIR COLLECTION_DIR [-k K] [-t TEXT]... "
                    "[-i IMAGE]...\n", argv[0]);
    return 2;
  }
  cbir_model_t* model = NULL;
  cbir_collection_t* coll = NULL;
  int status = cbir_model_open(&model, argv[1], NULL);
  if (status != CBIR_OK) {
    report(status, "opening the model");
    return 1;
  }

  cbir_model_info_t info;
  info.version = sizeof info;
  cbir_model_info(&info, model); /* cannot fail: an open model, version set */
  /* Created on the first run; the fingerprint makes it refuse any other model later. */
  cbir_collection_options_t copts = CBIR_COLLECTION_OPTIONS_INIT;
  copts.flags = CBIR_OPEN_CREATE;
  copts.dim = info.dim;
  copts.fingerprint = info.fingerprint;
  status = cbir_collection_open(&coll, argv[3], &copts);
  if (status != CBIR_OK) report(status, "opening the collection");

  if (status == CBIR_OK) status = index_folder(coll, model, argv[2]);
  size_t k = 5;
  for (int i = 4; status == CBIR_OK && i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "-k") == 0) k = (size_t)strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "-t") == 0) status = search_text(coll, model, (size_t)info.dim, argv[i + 1], k);
    else if (strcmp(argv[i], "-i") == 0) status = search_image(coll, model, (size_t)info.dim, argv[i + 1], k);
    else fprintf(stderr, "ignoring unknown option %s\n", argv[i]);
  }
  if (status == CBIR_OK) {
    status = cbir_collection_save(coll); /* close saves too, but could only log a failure */
    if (status != CBIR_OK) report(status, "saving the collection");
  }
  cbir_collection_close(coll);
  cbir_model_close(model);
  return status == CBIR_OK ? 0 : 1;
}
