#include "http_error.hpp"

#include "cbir.h"

namespace cli::serve {

int http_status_of(int cbir_status) {
  switch (cbir_status) {
    case CBIR_EINVAL:
    case CBIR_EIMAGE_EMPTY:
      return 400;
    case CBIR_ENOTFOUND:
      return 404;
    case CBIR_EIMAGE_TOO_LARGE:
      return 413;
    case CBIR_EIMAGE_FORMAT:
      return 415;
    case CBIR_EIMAGE_TRUNCATED:
    case CBIR_EIMAGE_CORRUPT:
    case CBIR_EIMAGE_DIMENSIONS:
      return 422;
    default:
      return 500;
  }
}

void check_http(int status, const std::string& context) {
  if (status == CBIR_OK) return;
  std::string msg = cbir_last_error();
  if (msg.empty()) msg = cbir_status_str(status);
  throw HttpError(http_status_of(status), context.empty() ? msg : context + ": " + msg);
}

}  // namespace cli::serve
