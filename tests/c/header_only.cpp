// cbir.h must also compile as C++ (extern "C" guards, no C-only constructs).
#include "cbir.h"

int cbir_header_test_anchor_cxx() { return CBIR_OK; }
