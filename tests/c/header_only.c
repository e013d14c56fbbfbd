/* cbir.h must stand alone as strict C99: included first, nothing else needed. */
#include "cbir.h"

int cbir_header_test_anchor(void);
int cbir_header_test_anchor(void) { return CBIR_OK + (int)sizeof(cbir_log_fn); }
