/* The C side of bench/model/run.py, written against cbir.h only:
 *
 *   bench_model BUNDLE THREADS PIXELS N SECONDS QUERIES [DEVICE [PRECISION]]
 *   bench_model --cpu        {"native_bf16": true|false, "features": "..."}: what cbir sees
 *
 * DEVICE: as cbir_model_options_t.device (default "cpu"); PRECISION: fp32 (default), fp16, bf16,
 * auto.
 * PIXELS: N preprocessed images (float32, N x 3 x S x S, as the image tower takes them);
 * QUERIES: UTF-8 texts, one a line. Prints one JSON object: the time to open the bundle, image
 * throughput (batches of N through cbir_model_embed_image_tensors, repeated for SECONDS) and
 * text-query latency (one text per cbir_model_embed_texts call: tokenize + encode + normalise,
 * repeated for SECONDS), p50 and p95. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cbir.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void check(int status, const char* what) {
  if (status == CBIR_OK) return;
  fprintf(stderr, "bench_model: %s: %s\n", what, cbir_last_error());
  exit(1);
}

static char* read_all(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  char* data;
  long n;
  if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "bench_model: cannot read %s\n", path);
    exit(1);
  }
  data = malloc((size_t)n + 1);
  if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) exit(1);
  data[n] = '\0';
  fclose(f);
  *size = (size_t)n;
  return data;
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  cbir_model_options_t opts = CBIR_MODEL_OPTIONS_INIT;
  cbir_model_t* model;
  cbir_model_info_t info;
  size_t bytes, n, i, images = 0, n_queries = 0, n_lat = 0, cap = 1024;
  float *pixels, *out;
  char *text, *line;
  const char* queries[4096];
  double seconds, t0, t_open, *lat;

  if (argc == 2 && strcmp(argv[1], "--cpu") == 0) {
    printf("{\"native_bf16\": %s, \"features\": \"%s\"}\n",
           (cbir_features() & CBIR_FEATURE_CPU_BF16) ? "true" : "false", cbir_cpu_features());
    return 0;
  }
  if (argc < 7 || argc > 9) {
    fprintf(stderr, "usage: bench_model BUNDLE THREADS PIXELS N SECONDS QUERIES [DEVICE [PRECISION]]\n");
    return 2;
  }
  opts.device = argc > 7 ? argv[7] : "cpu";
  if (argc > 8)
    opts.precision = strcmp(argv[8], "fp16") == 0   ? CBIR_PRECISION_FP16
                     : strcmp(argv[8], "bf16") == 0 ? CBIR_PRECISION_BF16
                     : strcmp(argv[8], "auto") == 0 ? CBIR_PRECISION_AUTO
                                                    : CBIR_PRECISION_FP32;
  opts.threads = atoi(argv[2]);
  n = (size_t)atol(argv[4]);
  seconds = atof(argv[5]);
  opts.batch_size = (int32_t)n;

  t0 = now();
  check(cbir_model_open(&model, argv[1], &opts), "open");
  t_open = now() - t0;
  info.version = sizeof info;
  check(cbir_model_info(&info, model), "info");

  pixels = (float*)read_all(argv[3], &bytes);
  if (bytes != n * 3 * (size_t)info.input_side * (size_t)info.input_side * sizeof(float)) {
    fprintf(stderr, "bench_model: %s does not hold %zu images of side %d\n", argv[3], n,
            (int)info.input_side);
    return 1;
  }
  out = malloc(n * (size_t)info.dim * sizeof(float));
  check(cbir_model_embed_image_tensors(out, model, pixels, n), "warm-up");
  t0 = now();
  do {
    check(cbir_model_embed_image_tensors(out, model, pixels, n), "images");
    images += n;
  } while (now() - t0 < seconds);
  printf("{\"threads\": %d, \"open_s\": %.3f, \"images_per_s\": %.3f", opts.threads, t_open,
         (double)images / (now() - t0));

  text = read_all(argv[6], &bytes);
  for (line = strtok(text, "\n"); line && n_queries < 4096; line = strtok(NULL, "\n"))
    queries[n_queries++] = line;
  if (info.has_text && n_queries > 0) {
    lat = malloc(cap * sizeof(double));
    check(cbir_model_embed_texts(out, model, queries, 1), "warm-up");
    t0 = now();
    for (i = 0; n_lat == 0 || now() - t0 < seconds; i = (i + 1) % n_queries) {
      double start = now();
      check(cbir_model_embed_texts(out, model, &queries[i], 1), "texts");
      if (n_lat == cap) lat = realloc(lat, (cap *= 2) * sizeof(double));
      lat[n_lat++] = (now() - start) * 1e3;
    }
    qsort(lat, n_lat, sizeof(double), by_value);
    printf(", \"text_p50_ms\": %.2f, \"text_p95_ms\": %.2f, \"queries\": %zu", lat[n_lat / 2],
           lat[n_lat * 95 / 100], n_lat);
    free(lat);
  }
  printf("}\n");
  free(text);
  free(out);
  free(pixels);
  cbir_model_close(model);
  return 0;
}
