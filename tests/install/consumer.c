/* A program outside the project: built against the installed cbir with -std=c99. */
#include <stdio.h>

#include <cbir.h>

int main(void) {
  if (cbir_version_number() != CBIR_VERSION_NUMBER) {
    fprintf(stderr, "header %d but library %d\n", CBIR_VERSION_NUMBER, (int)cbir_version_number());
    return 1;
  }
  if (cbir_set_threads(-1) != CBIR_EINVAL || cbir_last_error()[0] == '\0') return 1;
  printf("consumer: linked cbir %s\n", cbir_version_string());
  return 0;
}
