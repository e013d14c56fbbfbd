// The facts a photo library filters on, read from EXIF with libexif (a parser fuzzed upstream;
// cbir's own reader in orientation.cpp only finds the orientation): capture time and its
// offset, camera make and model, GPS latitude and longitude.
#include <libexif/exif-data.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/civil_time.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {
namespace {

struct Unref {
  void operator()(ExifData* d) const { exif_data_unref(d); }
};

// An ASCII entry's text (clean_ascii: EXIF's ASCII type is 7-bit; anything else would be a
// guess at an encoding).
std::string ascii(ExifData* ed, ExifIfd ifd, ExifTag tag) {
  ExifEntry* e = exif_content_get_entry(ed->ifd[ifd], tag);
  if (e == nullptr || e->format != EXIF_FORMAT_ASCII || e->data == nullptr) return "";
  return clean_ascii(std::string(reinterpret_cast<const char*>(e->data), e->size));
}

}  // namespace

std::string clean_ascii(std::string s) {
  s = s.substr(0, s.find('\0'));
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.size() > 256) return "";
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return "";
  return s;
}

// "YYYY:MM:DD HH:MM:SS" (some writers use '-' in the date): seconds of that wall-clock time
// read as UTC. The all-zero "unknown" value and impossible dates give nothing.
std::optional<int64_t> exif_time(const std::string& s) {
  if (s.size() < 19) return std::nullopt;
  int v[6];
  static const int at[6] = {0, 5, 8, 11, 14, 17}, len[6] = {4, 2, 2, 2, 2, 2};
  for (int i = 0; i < 6; ++i) {
    v[i] = 0;
    for (int j = at[i]; j < at[i] + len[i]; ++j) {
      if (s[j] < '0' || s[j] > '9') return std::nullopt;
      v[i] = v[i] * 10 + (s[j] - '0');
    }
  }
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (v[0] < 1800 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > kDays[v[1] - 1] || v[3] > 23 ||
      v[4] > 59 || v[5] > 60)
    return std::nullopt;
  return days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
}

// "+HH:MM" / "-HH:MM": minutes east of UTC.
std::optional<int32_t> exif_offset(const std::string& s) {
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return std::nullopt;
  for (int i : {1, 2, 4, 5})
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  const int h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[4] - '0') * 10 + (s[5] - '0');
  if (h > 14 || m > 59) return std::nullopt;
  return (s[0] == '-' ? -1 : 1) * (h * 60 + m);
}

namespace {

// A GPS coordinate: three rationals (degrees, minutes, seconds) and its N/S or E/W reference.
std::optional<double> coordinate(ExifData* ed, ExifTag value_tag, ExifTag ref_tag, char negative,
                                 double limit) {
  ExifEntry* e = exif_content_get_entry(ed->ifd[EXIF_IFD_GPS], value_tag);
  if (e == nullptr || e->format != EXIF_FORMAT_RATIONAL || e->components != 3 ||
      e->data == nullptr || e->size < 24)
    return std::nullopt;
  const ExifByteOrder order = exif_data_get_byte_order(ed);
  double parts[3];
  for (int i = 0; i < 3; ++i) {
    const ExifRational r = exif_get_rational(e->data + 8 * i, order);
    if (r.denominator == 0) return std::nullopt;  // "no fix" is often written as 0/0
    parts[i] = double(r.numerator) / r.denominator;
  }
  double v = parts[0] + parts[1] / 60 + parts[2] / 3600;
  if (!std::isfinite(v) || v > limit) return std::nullopt;
  ExifEntry* ref = exif_content_get_entry(ed->ifd[EXIF_IFD_GPS], ref_tag);
  if (ref != nullptr && ref->format == EXIF_FORMAT_ASCII && ref->size >= 1 && ref->data &&
      ref->data[0] == negative)
    v = -v;
  return v;
}

}  // namespace

void read_exif_facts(const uint8_t* exif, size_t size, PhotoMeta& meta) {
  if (exif == nullptr || size < 8) return;
  // libexif takes an APP1 payload: "Exif\0\0", then the TIFF stream.
  std::vector<uint8_t> framed;
  if (std::memcmp(exif, "Exif\0\0", 6) != 0) {
    framed.reserve(size + 6);
    framed.insert(framed.end(), {'E', 'x', 'i', 'f', 0, 0});
    framed.insert(framed.end(), exif, exif + size);
    exif = framed.data();
    size = framed.size();
  }
  std::unique_ptr<ExifData, Unref> ed(exif_data_new());
  if (!ed) return;
  // Read what is there, as it is: "following the specification" would fill in missing
  // mandatory tags, the date among them, with made-up values.
  exif_data_unset_option(ed.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_load_data(ed.get(), exif, static_cast<unsigned int>(std::min<size_t>(size, UINT32_MAX)));

  meta.make = ascii(ed.get(), EXIF_IFD_0, EXIF_TAG_MAKE);
  meta.model = ascii(ed.get(), EXIF_IFD_0, EXIF_TAG_MODEL);
  meta.taken = exif_time(ascii(ed.get(), EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL));
  ExifTag offset_tag = EXIF_TAG_OFFSET_TIME_ORIGINAL;
  if (!meta.taken) {
    meta.taken = exif_time(ascii(ed.get(), EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_DIGITIZED));
    offset_tag = EXIF_TAG_OFFSET_TIME_DIGITIZED;
  }
  if (meta.taken) meta.taken_offset = exif_offset(ascii(ed.get(), EXIF_IFD_EXIF, offset_tag));
  const auto lat = coordinate(ed.get(), static_cast<ExifTag>(EXIF_TAG_GPS_LATITUDE),
                              static_cast<ExifTag>(EXIF_TAG_GPS_LATITUDE_REF), 'S', 90);
  const auto lon = coordinate(ed.get(), static_cast<ExifTag>(EXIF_TAG_GPS_LONGITUDE),
                              static_cast<ExifTag>(EXIF_TAG_GPS_LONGITUDE_REF), 'W', 180);
  if (lat && lon) {
    meta.lat = lat;
    meta.lon = lon;
  }
}

}  // namespace cbir::image::detail
