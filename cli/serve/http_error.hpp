// Errors of the web gallery: an HTTP status with a message that tells the user what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace cli::serve {

struct HttpError : std::runtime_error {
  HttpError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;  // 4xx: the request is wrong; 5xx: the server failed
};

// The HTTP status that fits a cbir status: 400 for bad arguments, 404 for missing items or
// files, 413/415/422 for images that are too large, not images, or damaged; 500 otherwise.
int http_status_of(int cbir_status);

// Throws HttpError carrying cbir_last_error() (prefixed by context) when status is not CBIR_OK.
void check_http(int status, const std::string& context);

}  // namespace cli::serve
