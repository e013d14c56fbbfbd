/* The public API exercised from C99 against the real libcbir. */
#include <stdio.h>
#include <string.h>

#include "cbir.h"

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

static int log_calls = 0;
static void on_log(void* user, int32_t level, const char* message) {
  (void)user;
  (void)level;
  (void)message;
  ++log_calls;
}

int main(void) {
  CHECK(cbir_version_number() == CBIR_VERSION_NUMBER);
  CHECK(strlen(cbir_version_string()) >= 5);
  CHECK(strcmp(cbir_status_str(CBIR_OK), "ok") == 0);
  CHECK(strcmp(cbir_status_str(CBIR_ELOCKED), cbir_status_str(CBIR_ECORRUPT)) != 0);
  CHECK(cbir_last_error() != NULL);
  CHECK(strstr(cbir_build_info(), "cbir") != NULL);

  CHECK(cbir_set_threads(-3) == CBIR_EINVAL);
  CHECK(strstr(cbir_last_error(), "threads") != NULL);
  CHECK(cbir_set_threads(1) == CBIR_OK);
  CHECK(cbir_last_error()[0] == '\0');

  cbir_free(NULL);
  cbir_set_log_callback(on_log, NULL, CBIR_LOG_DEBUG);
  cbir_set_log_callback(NULL, NULL, CBIR_LOG_DEBUG);
  CHECK(log_calls == 0);

  if (failures == 0) printf("c_api: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
