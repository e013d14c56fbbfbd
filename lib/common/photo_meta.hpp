// What a photo file says about itself beyond its pixels: read by lib/image at decode time,
// stored by lib/store in the catalog's items, filtered on by lib/query.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cbir {

struct PhotoMeta {
  std::string format;  // "jpeg", "png", "heic", ... ("" when not known, e.g. items added by API)
  // Capture time (EXIF DateTimeOriginal, else DateTimeDigitized) as the camera's clock showed
  // it: seconds since 1970-01-01 of that wall-clock time read as UTC. taken_offset: minutes
  // east of UTC (OffsetTimeOriginal/Digitized), when the file says.
  std::optional<int64_t> taken;
  std::optional<int32_t> taken_offset;
  std::string make, model;  // the camera's, trimmed; "" when absent
  std::optional<double> lat, lon;  // GPS, degrees (north and east positive); both or neither
};

}  // namespace cbir
