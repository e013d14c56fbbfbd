// The library never prints; diagnostics go to the user's callback (cbir_set_log_callback).
#pragma once

#include <string>

#include "cbir.h"

namespace cbir {

void set_log_callback(cbir_log_fn fn, void* user, int level);
bool log_enabled(int level);
void log(int level, const std::string& message);

}  // namespace cbir
