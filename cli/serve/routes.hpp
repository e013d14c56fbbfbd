// The web gallery's HTTP surface: the page (embedded), the JSON API and the thumbnails.
// Every error is a JSON body {"error": message, "status": code}.
#pragma once

#include <httplib.h>

#include "gallery.hpp"
#include "thumbnails.hpp"

namespace cli::serve {

// Registers every route, the JSON error and exception handlers, and the upload size limit.
// gallery and thumbnails must outlive the server.
void add_routes(httplib::Server& server, const Gallery& gallery, Thumbnails& thumbnails);

}  // namespace cli::serve
