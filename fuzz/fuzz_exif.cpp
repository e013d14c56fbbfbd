// EXIF facts (capture time, camera, GPS) from any bytes, as a file's EXIF block would hand
// them to libexif: with and without the "Exif\0\0" prefix. Never a crash, a leak or UB, and
// whatever is read is in range.
#include <cmath>
#include <cstdint>

#include "image/decoders.hpp"

using namespace cbir::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cbir::PhotoMeta meta;
  detail::read_exif_facts(data, size, meta);
  if (meta.lat.has_value() != meta.lon.has_value()) __builtin_trap();
  if (meta.lat && (!(std::fabs(*meta.lat) <= 90) || !(std::fabs(*meta.lon) <= 180))) __builtin_trap();
  if (meta.taken_offset && !meta.taken) __builtin_trap();
  if (meta.make.size() > 256 || meta.model.size() > 256) __builtin_trap();
  return 0;
}
