// Decoding: every golden image, every golden bad file (each with its own error), memory on
// decompression bombs, each format's variants, EXIF orientation, truncation and corruption
// (never a crash, never a partial image passed on as good), raw pixels.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <turbojpeg.h>

#include "common/error.hpp"
#include "golden.hpp"
#include "image/decoders.hpp"
#include "image/image.hpp"
#include "test_image_fixtures.hpp"

using namespace cbir::image;
using fixtures::Bytes;
using fixtures::px;

namespace {

// The status code decode_memory ends with (CBIR_OK when it decodes), and its message.
struct Outcome {
  int code = CBIR_OK;
  std::string message;
  Image image;
};

Outcome decode(const Bytes& data, DecodeOptions opts = {}, const std::string& name = "buffer") {
  Outcome o;
  try {
    o.image = decode_memory(data.data(), data.size(), opts, name);
  } catch (const cbir::Error& e) {
    o.code = e.code();
    o.message = e.what();
  }
  return o;
}

Outcome decode_path(const std::string& path, DecodeOptions opts = {}) {
  Outcome o;
  try {
    o.image = decode_file(path, opts);
  } catch (const cbir::Error& e) {
    o.code = e.code();
    o.message = e.what();
  }
  return o;
}

bool is_image_error(int code) {
  return code == CBIR_EIMAGE_FORMAT || code == CBIR_EIMAGE_TRUNCATED ||
         code == CBIR_EIMAGE_CORRUPT || code == CBIR_EIMAGE_DIMENSIONS ||
         code == CBIR_EIMAGE_TOO_LARGE || code == CBIR_EIMAGE_EMPTY;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Peak resident memory in KiB since the last reset_peak_rss(), or -1 where Linux cannot say.
bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";  // resets VmHWM to the current RSS (Linux >= 4.0)
  return static_cast<bool>(clear.flush());
}
long status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  return -1;
}

}  // namespace

TEST_CASE("every golden image decodes upright at its size") {
  CBIR_REQUIRE_GOLDEN(dir);
  const std::map<std::string, std::pair<int, int>> sizes = {
      {"alpha_200x200.png", {200, 200}},         {"anim_first_frame_120x90.gif", {120, 90}},
      {"bitmap_123x77.bmp", {123, 77}},          {"exif_rotate6_400x300.jpg", {300, 400}},
      {"gray_300x500.jpg", {300, 500}},          {"large_2000x1500.jpg", {2000, 1500}},
      {"palette_150x100.png", {150, 100}},       {"photo_444_300x300.jpg", {300, 300}},
      {"photo_640x480_q90.jpg", {640, 480}},     {"photo_progressive_500x375.jpg", {500, 375}},
      {"tall_90x700.png", {90, 700}},            {"tiny_5x3.png", {5, 3}},
      {"wide_257x129.png", {257, 129}}};
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/images")) {
    const std::string file = entry.path().filename().string();
    INFO(file);
    REQUIRE(sizes.count(file) == 1);
    const Image img = decode_file(entry.path().string(), {});
    CHECK(img.width == sizes.at(file).first);
    CHECK(img.height == sizes.at(file).second);
    CHECK(img.rgb.size() == size_t(img.width) * img.height * 3);
    ++seen;
  }
  CHECK(seen == 13);

  // The EXIF orientation can be ignored; the gray JPEG comes out with R = G = B.
  DecodeOptions raw;
  raw.exif_orientation = false;
  const Image stored = decode_file(dir + "/images/exif_rotate6_400x300.jpg", raw);
  CHECK((stored.width == 400 && stored.height == 300));
  const Image gray = decode_file(dir + "/images/gray_300x500.jpg", {});
  bool replicated = true;
  for (size_t i = 0; i < gray.rgb.size(); i += 3)
    replicated &= gray.rgb[i] == gray.rgb[i + 1] && gray.rgb[i] == gray.rgb[i + 2];
  CHECK(replicated);
}

TEST_CASE("every golden bad file gets its own clear error naming the file") {
  CBIR_REQUIRE_GOLDEN(dir);
  struct Expect {
    int code;
    std::string says;
  };
  const std::map<std::string, Expect> expected = {
      {"bad_crc.png", {CBIR_EIMAGE_CORRUPT, "checksum mismatch"}},
      {"bomb_100000x100000.png", {CBIR_EIMAGE_TOO_LARGE, "100000x100000"}},
      {"bomb_65535x65535.png", {CBIR_EIMAGE_TOO_LARGE, "65535x65535"}},
      {"cmyk.jpg", {CBIR_OK, ""}},  // decoded, as Pillow does (checked below)
      {"empty.jpg", {CBIR_EIMAGE_EMPTY, "empty"}},
      {"html_named.jpg", {CBIR_EIMAGE_FORMAT, "HTML page"}},
      {"random_bytes.jpg", {CBIR_EIMAGE_FORMAT, "not a recognised image format"}},
      {"svg_image.svg", {CBIR_EIMAGE_FORMAT, "SVG"}},
      {"text_named.png", {CBIR_EIMAGE_FORMAT, "this is text"}},
      {"truncated_half.jpg", {CBIR_EIMAGE_TRUNCATED, "ends early"}},
      {"truncated_header.jpg", {CBIR_EIMAGE_TRUNCATED, "ends early"}},
      {"zero_width.png", {CBIR_EIMAGE_DIMENSIONS, "0x10"}}};
  std::set<std::string> messages;
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/bad")) {
    const std::string file = entry.path().filename().string(), path = entry.path().string();
    INFO(file);
    REQUIRE(expected.count(file) == 1);  // a new bad file needs its expectation here
    const Expect& want = expected.at(file);
    const Outcome o = decode_path(path);
    CHECK(o.code == want.code);
    ++seen;
    if (want.code == CBIR_OK) continue;
    INFO(o.message);
    CHECK(o.message.rfind(path + ": ", 0) == 0);
    CHECK(contains(o.message, want.says));
    CHECK(messages.insert(o.message.substr(path.size())).second);  // no two reasons alike

    // From memory the same code, and the name given instead of a path.
    const Outcome m = decode(fixtures::read_bytes(path), {}, "upload.bin");
    CHECK(m.code == want.code);
    CHECK(m.message.rfind("upload.bin: ", 0) == 0);
  }
  CHECK(seen == 12);
}

TEST_CASE("a CMYK JPEG is converted as Pillow converts it") {
  CBIR_REQUIRE_GOLDEN(dir);
  const Image img = decode_file(dir + "/bad/cmyk.jpg", {});
  REQUIRE((img.width == 32 && img.height == 32));
  // Image.open(...).convert('RGB') of the first three pixels, from Pillow 9.4.
  const Bytes want = {176, 128, 136, 18, 26, 103, 173, 39, 6};
  CHECK(Bytes(img.rgb.begin(), img.rgb.begin() + 9) == want);
}

TEST_CASE("a YCCK JPEG (how TurboJPEG stores CMYK) decodes to Pillow's CMYK conversion") {
  const int w = 16, h = 8;
  Bytes cmyk(w * h * 4);
  for (int i = 0; i < w * h; ++i) {  // smooth ramps, so JPEG loses little
    cmyk[i * 4 + 0] = static_cast<uint8_t>(i % w * 12);
    cmyk[i * 4 + 1] = static_cast<uint8_t>(i / w * 20);
    cmyk[i * 4 + 2] = 90;
    cmyk[i * 4 + 3] = 200;
  }
  tjhandle tj = tjInitCompress();
  REQUIRE(tj != nullptr);
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  REQUIRE(tjCompress2(tj, cmyk.data(), w, 0, h, TJPF_CMYK, &jpeg, &jpeg_size, TJSAMP_444, 100, 0) == 0);
  const Bytes file(jpeg, jpeg + jpeg_size);
  tjFree(jpeg);
  tjDestroy(tj);

  const Outcome o = decode(file);
  REQUIRE(o.code == CBIR_OK);
  // Pillow reads CMYK JPEGs as inverted (Adobe) and converts with R = K' - K' * (255 - C') / 255.
  int worst = 0;
  for (int i = 0; i < w * h; ++i)
    for (int c = 0; c < 3; ++c) {
      const int k = cmyk[i * 4 + 3], v = cmyk[i * 4 + c];
      const int want = k - (255 - v) * k / 255;
      worst = std::max(worst, std::abs(want - o.image.rgb[i * 3 + c]));
    }
  CHECK(worst <= 4);  // JPEG at quality 100 is nearly, not exactly, lossless
}

TEST_CASE("decompression bombs are refused without allocating what they claim") {
  CBIR_REQUIRE_GOLDEN(dir);
  if (!reset_peak_rss() || status_kib("VmHWM:") < 0) {
    WARN("SKIPPED: this kernel cannot reset the peak RSS (/proc/self/clear_refs)");
    return;
  }
  const Bytes bomb = fixtures::read_bytes(dir + "/bad/bomb_100000x100000.png");
  const Bytes bomb2 = fixtures::read_bytes(dir + "/bad/bomb_65535x65535.png");
  DecodeOptions unlimited;
  unlimited.max_pixels = UINT64_MAX;  // even when the caller lifts the limit
  // A 4000x4000 claim under the limit, on 17 bytes of IDAT: refused before stb allocates 48 MB.
  Bytes small_claim = fixtures::png(4000, 4000, 2, 8, {});

  reset_peak_rss();
  const long before = status_kib("VmRSS:");
  CHECK(decode(bomb).code == CBIR_EIMAGE_TOO_LARGE);
  CHECK(decode(bomb2).code == CBIR_EIMAGE_TOO_LARGE);
  CHECK(decode(bomb, unlimited).code == CBIR_EIMAGE_CORRUPT);
  CHECK(decode(bomb2, unlimited).code == CBIR_EIMAGE_CORRUPT);
  CHECK(decode(small_claim).code == CBIR_EIMAGE_CORRUPT);
  const long growth_kib = status_kib("VmHWM:") - before;
  INFO("peak RSS growth " << growth_kib << " KiB; the bombs claim 30 GB and 12.9 GB");
  CHECK(growth_kib < 16 * 1024);
}

TEST_CASE("the pixel limit is checked against the header") {
  const Bytes file = fixtures::ppm(40, 30, fixtures::pattern(40, 30, 3));
  DecodeOptions opts;
  opts.max_pixels = 1200;
  CHECK(decode(file, opts).code == CBIR_OK);
  opts.max_pixels = 1199;
  const Outcome o = decode(file, opts);
  CHECK(o.code == CBIR_EIMAGE_TOO_LARGE);
  CHECK(contains(o.message, "40x30"));
  opts.max_pixels = 0;
  CHECK_THROWS_AS(decode_memory(file.data(), file.size(), opts), cbir::Error);
}

TEST_CASE("a PNM header number too long for an int is refused before stb parses it") {
  // Found by fuzz_image: stb's PNM parser overflowed a signed int (undefined behaviour).
  const std::string header = "P5\n2555555555555555555555555556 \n15\n";
  Bytes file(header.begin(), header.end());
  file.insert(file.end(), {0x00, 0x80, 0xff});
  const Outcome o = decode(file);
  CHECK(o.code == CBIR_EIMAGE_CORRUPT);
  CHECK(contains(o.message, "more than 9 digits"));
  const std::string nine = "P6\n999999999 1\n255\n";  // 9 digits: stb's own checks answer
  CHECK(decode(Bytes(nine.begin(), nine.end())).code != CBIR_OK);
}

TEST_CASE("BMP RLE8, ICO and plain PPM decode to the pixels they hold") {
  const Bytes rgb = fixtures::pattern(23, 11, 3);
  CHECK(px(decode(fixtures::ico24(23, 11, rgb)).image) == rgb);
  CHECK(px(decode(fixtures::ppm_plain(23, 11, rgb)).image) == rgb);
  const Outcome rle = decode(fixtures::bmp_rle8(23, 11));
  REQUIRE(rle.code == CBIR_OK);
  // The top row is the last stored (bottom-up): index 10 for 11 pixels, then indices 1..5,
  // a skipped pixel (index 0) and the rest of the row, never written, index 0 as well.
  const Bytes row(rle.image.rgb.begin(), rle.image.rgb.begin() + 23 * 3);
  auto colour = [](int i) { return Bytes{uint8_t(i * 5), uint8_t(255 - i * 9), uint8_t(i * 16)}; };
  for (int x = 0; x < 23; ++x) {
    const int index = x < 11 ? 10 : x < 16 ? x - 10 : 0;
    INFO("x = " << x);
    CHECK(Bytes(row.begin() + 3 * x, row.begin() + 3 * x + 3) == colour(index));
  }
}

TEST_CASE("16-bit PNM: big-endian samples scaled to 8 bits; a sample over maxval is damage") {
  // Once refused: stb's 16-bit PGM-to-RGB conversion read past its buffer (fuzz_image, ASan).
  const std::string gray = "P5\n2 1\n65535\n";
  Bytes file(gray.begin(), gray.end());
  file.insert(file.end(), {0x7f, 0x7f, 0xff, 0xff});  // 32639 and 65535
  const Outcome o = decode(file);
  REQUIRE(o.code == CBIR_OK);
  CHECK(px(o.image) == Bytes{127, 127, 127, 255, 255, 255});
  const std::string rgb = "P6\n2 1\n256\n";
  Bytes over(rgb.begin(), rgb.end());
  over.insert(over.end(), 12, 0x7f);  // 32639 > 256
  const Outcome bad = decode(over);
  CHECK(bad.code == CBIR_EIMAGE_CORRUPT);
  CHECK(contains(bad.message, "over the file's maximum 256"));
}

TEST_CASE("PNG variants become RGB as Pillow's convert('RGB') makes them") {
  const int w = 5, h = 3;
  const Bytes rgb = fixtures::pattern(w, h, 3);
  SECTION("8-bit RGB") { CHECK(px(decode(fixtures::png(w, h, 2, 8, rgb)).image) == rgb); }
  SECTION("interlaced (Adam7)") {
    const Bytes big = fixtures::pattern(13, 11, 3);
    CHECK(px(decode(fixtures::png(13, 11, 2, 8, big, {}, {}, true)).image) == big);
  }
  SECTION("RGBA: alpha dropped, not blended") {
    const Bytes rgba = fixtures::pattern(w, h, 4);
    Bytes want;
    for (size_t i = 0; i < rgba.size(); i += 4) want.insert(want.end(), {rgba[i], rgba[i + 1], rgba[i + 2]});
    CHECK(px(decode(fixtures::png(w, h, 6, 8, rgba)).image) == want);
  }
  SECTION("gray and gray+alpha: gray replicated") {
    const Bytes gray = fixtures::pattern(w, h, 1), ga = fixtures::pattern(w, h, 2);
    Bytes want, want_ga;
    for (uint8_t v : gray) want.insert(want.end(), {v, v, v});
    for (size_t i = 0; i < ga.size(); i += 2) want_ga.insert(want_ga.end(), {ga[i], ga[i], ga[i]});
    CHECK(px(decode(fixtures::png(w, h, 0, 8, gray)).image) == want);
    CHECK(px(decode(fixtures::png(w, h, 4, 8, ga)).image) == want_ga);
  }
  SECTION("palette, with transparency: colours expanded, alpha dropped") {
    const Bytes palette = {10, 20, 30, 40, 50, 60, 70, 80, 90};
    const Bytes index = {0, 1, 2, 1, 0, 2, 2, 2, 1, 0, 0, 1, 2, 0, 1};
    Bytes want;
    for (uint8_t i : index) want.insert(want.end(), palette.begin() + 3 * i, palette.begin() + 3 * i + 3);
    CHECK(px(decode(fixtures::png(w, h, 3, 8, index, {{"PLTE", palette}, {"tRNS", {0, 128}}})).image) == want);
  }
  SECTION("16-bit: the high byte of each sample") {
    const Bytes rgb16 = fixtures::pattern(w, h, 6);
    Bytes want;
    for (size_t i = 0; i < rgb16.size(); i += 2) want.push_back(rgb16[i]);  // big-endian samples
    CHECK(px(decode(fixtures::png(w, h, 2, 16, rgb16)).image) == want);
  }
  SECTION("1-bit gray: black and white") {
    const Bytes bits = {0xA0, 0x40, 0xF8};  // rows of 5 pixels: 10100, 01000, 11111
    const Outcome o = decode(fixtures::png(w, h, 0, 1, bits));
    REQUIRE(o.code == CBIR_OK);
    CHECK(o.image.rgb[0] == 255);
    CHECK(o.image.rgb[3] == 0);
    CHECK(o.image.rgb[(2 * w + 4) * 3] == 255);
  }
}

TEST_CASE("BMP, TGA and PPM decode to their exact pixels") {
  const int w = 7, h = 5;  // odd width: BMP rows carry padding
  const Bytes rgb = fixtures::pattern(w, h, 3);
  for (const Bytes& file : {fixtures::bmp24(w, h, rgb), fixtures::tga24(w, h, rgb), fixtures::ppm(w, h, rgb)}) {
    const Outcome o = decode(file);
    REQUIRE(o.code == CBIR_OK);
    CHECK((o.image.width == w && o.image.height == h));
    CHECK(px(o.image) == rgb);
  }
}

TEST_CASE("GIF: the first frame; transparent pixels take their palette colour, as in Pillow") {
  const Bytes palette = {0, 0, 0, 255, 255, 255, 200, 10, 10, 10, 200, 10};
  const Bytes indices = {0, 1, 2, 3, 2, 2, 1, 0, 3, 3, 3, 2};  // 4x3
  Bytes want;
  for (uint8_t i : indices) want.insert(want.end(), palette.begin() + 3 * i, palette.begin() + 3 * i + 3);
  // Pillow 9.4: Image.open(gif).convert('RGB') gives index 2's colour where 2 is transparent.
  CHECK(px(decode(fixtures::gif(4, 3, palette, indices, 2)).image) == want);
  CHECK(px(decode(fixtures::gif(4, 3, palette, indices, -1)).image) == want);
}

TEST_CASE("EXIF orientation turns the image upright like ImageOps.exif_transpose") {
  // 3x2 image: A B C / D E F, one letter per pixel (its value in all three channels).
  const Bytes letters = {'A', 'B', 'C', 'D', 'E', 'F'};
  Bytes rgb;
  for (uint8_t v : letters) rgb.insert(rgb.end(), {v, v, v});
  const std::map<int, std::pair<int, std::string>> upright = {
      {1, {3, "ABCDEF"}}, {2, {3, "CBAFED"}}, {3, {3, "FEDCBA"}}, {4, {3, "DEFABC"}},
      {5, {2, "ADBECF"}}, {6, {2, "DAEBFC"}}, {7, {2, "FCEBDA"}}, {8, {2, "CFBEAD"}}};
  for (const auto& [orientation, want] : upright) {
    for (bool little : {true, false}) {
      INFO("orientation " << orientation << (little ? " II" : " MM"));
      const Bytes file = fixtures::png(3, 2, 2, 8, rgb, {}, {{"eXIf", fixtures::exif_tiff(orientation, little)}});
      const Outcome o = decode(file);
      REQUIRE(o.code == CBIR_OK);
      CHECK(o.image.width == want.first);
      std::string got;
      for (size_t i = 0; i < o.image.rgb.size(); i += 3) got += static_cast<char>(o.image.rgb[i]);
      CHECK(got == want.second);
    }
  }
  // Values outside 1..8 and broken EXIF leave the image as stored.
  for (const Bytes& tiff : {fixtures::exif_tiff(9), fixtures::exif_tiff(0), Bytes{'I', 'I', 42, 0, 0xFF, 0xFF, 0, 0}, Bytes{'X'}}) {
    const Outcome o = decode(fixtures::png(3, 2, 2, 8, rgb, {{"eXIf", tiff}}));
    REQUIRE(o.code == CBIR_OK);
    CHECK(px(o.image) == rgb);
  }
}

TEST_CASE("EXIF orientation in a JPEG's APP1 segment") {
  CBIR_REQUIRE_GOLDEN(dir);
  const Bytes jpeg = fixtures::read_bytes(dir + "/images/photo_640x480_q90.jpg");
  const Image plain = decode(jpeg).image;
  const Outcome turned = decode(fixtures::jpeg_with_exif(jpeg, fixtures::exif_tiff(8)));
  REQUIRE(turned.code == CBIR_OK);
  CHECK((turned.image.width == 480 && turned.image.height == 640));
  CHECK(px(turned.image) == px(detail::apply_orientation(plain, 8)));
  DecodeOptions off;
  off.exif_orientation = false;
  CHECK(px(decode(fixtures::jpeg_with_exif(jpeg, fixtures::exif_tiff(8)), off).image) == px(plain));
}

TEST_CASE("cut short anywhere: an error, never a partial image") {
  CBIR_REQUIRE_GOLDEN(dir);
  const Bytes rgb = fixtures::pattern(31, 17, 3);
  const std::map<std::string, Bytes> samples = {
      {"jpeg", fixtures::read_bytes(dir + "/images/photo_progressive_500x375.jpg")},
      {"png", fixtures::read_bytes(dir + "/images/wide_257x129.png")},
      {"gif", fixtures::read_bytes(dir + "/images/anim_first_frame_120x90.gif")},
      {"bmp", fixtures::bmp24(31, 17, rgb)},
      {"tga", fixtures::tga24(31, 17, rgb)},
      {"ppm", fixtures::ppm(31, 17, rgb)}};
  for (const auto& [kind, file] : samples) {
    const Image whole = decode(file).image;
    REQUIRE(!whole.rgb.empty());
    std::set<size_t> cuts = {1, 2, 3, 8, 16, 30, 60, file.size() - 1, file.size() - 2, file.size() - 12};
    for (int i = 1; i < 40; ++i) cuts.insert(file.size() * i / 40);
    for (size_t cut : cuts) {
      INFO(kind << " cut to " << cut << " of " << file.size() << " bytes");
      const Outcome o = decode(Bytes(file.begin(), file.begin() + cut));
      if (o.code == CBIR_OK) {
        // Only a GIF may stop early legitimately: its first frame can be whole without the
        // rest; and a BMP missing no more than its last row's padding (its pixels are whole).
        CHECK((kind == "gif" || (kind == "bmp" && cut >= file.size() - 3)));
        CHECK(px(o.image) == px(whole));
      } else {
        CHECK(is_image_error(o.code));
        if (cut >= 60 && kind != "gif") CHECK(o.code == CBIR_EIMAGE_TRUNCATED);
      }
    }
  }
}

TEST_CASE("damaged bytes anywhere: a clean error or a whole image, never a crash") {
  CBIR_REQUIRE_GOLDEN(dir);
  const Bytes rgb = fixtures::pattern(23, 11, 3);
  const std::vector<Bytes> samples = {
      fixtures::read_bytes(dir + "/images/photo_444_300x300.jpg"),
      fixtures::read_bytes(dir + "/images/photo_progressive_500x375.jpg"),
      fixtures::read_bytes(dir + "/images/palette_150x100.png"),
      fixtures::read_bytes(dir + "/images/anim_first_frame_120x90.gif"),
      fixtures::read_bytes(dir + "/images/bitmap_123x77.bmp"),
      fixtures::tga24(23, 11, rgb), fixtures::ppm(23, 11, rgb), fixtures::bmp_rle8(23, 11),
      fixtures::ico24(23, 11, rgb), fixtures::ppm_plain(23, 11, rgb)};
  std::mt19937 rng(1234);
  int decoded = 0, refused = 0;
  for (const Bytes& original : samples) {
    const Image whole = decode(original).image;
    for (int round = 0; round < 60; ++round) {
      Bytes file = original;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips; ++f) file[rng() % file.size()] = static_cast<uint8_t>(rng());
      const Outcome o = decode(file);
      if (o.code == CBIR_OK) {
        ++decoded;  // damaged entropy data may still decode, as in Pillow; never a torn buffer
        CHECK(o.image.rgb.size() == size_t(o.image.width) * o.image.height * 3);
      } else {
        ++refused;
        INFO(o.message);
        CHECK((is_image_error(o.code) || o.code == CBIR_ENOMEM));
      }
    }
    CHECK(whole.width > 0);
  }
  CHECK(refused > 0);
  WARN("damaged files: " << decoded << " decoded, " << refused << " refused");
}

TEST_CASE("formats cbir does not decode are named in the error") {
  const std::map<std::string, Bytes> files = {
      {"P7", {'P', '7', '\n', 'W', 'I', 'D', 'T', 'H', ' ', '1', '\n'}},
      {"SVG", {'<', '?', 'x', 'm', 'l', '?', '>', '<', 's', 'v', 'g', '>'}},
      {"Photoshop", {'8', 'B', 'P', 'S', 0, 1, 0, 0, 0, 0, 0, 0, 0, 3}}};
  for (const auto& [what, bytes] : files) {
    const Outcome o = decode(bytes);
    INFO(o.message);
    CHECK(o.code == CBIR_EIMAGE_FORMAT);
    CHECK(contains(o.message, what));
  }
}

TEST_CASE("the photo formats are recognised by their bytes: a stub is damaged, not unknown") {
  // Decoded where this build has the library (else refused naming the package:
  // test_image_without_formats); either way never "not a recognised image format".
  const std::map<std::string, Bytes> files = {
      {"WebP", {'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' '}},
      {"TIFF", {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0}},
      {"HEIF", {0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0, 0, 0, 0}},
      {"AVIF", {0, 0, 0, 24, 'f', 't', 'y', 'p', 'a', 'v', 'i', 'f', 0, 0, 0, 0}}};
  for (const auto& [what, bytes] : files) {
    const Outcome o = decode(bytes);
    INFO(o.message);
    CHECK(is_image_error(o.code));
    CHECK(contains(o.message, what));
    CHECK_FALSE(contains(o.message, "not a recognised"));
  }
}

TEST_CASE("files: missing, a folder, empty") {
  const std::string dir = std::filesystem::temp_directory_path() / "cbir_test_image_files";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/empty.png").close();
  CHECK(decode_path(dir + "/no_such.jpg").code == CBIR_ENOTFOUND);
  CHECK(decode_path(dir).code == CBIR_EIO);
  CHECK(decode_path(dir + "/empty.png").code == CBIR_EIMAGE_EMPTY);
  CHECK(decode(Bytes{}).code == CBIR_EIMAGE_EMPTY);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the fast path decodes large JPEGs at a DCT scale that keeps twice the target") {
  CBIR_REQUIRE_GOLDEN(dir);
  Recipe clip;
  clip.size = 224;
  const DecodeOptions fast = fast_options_for(clip, {});
  CHECK(fast.fast_min_side == 224);
  const Image large = decode_file(dir + "/images/large_2000x1500.jpg", fast);
  CHECK((large.width == 1000 && large.height == 750));  // 1/2: at 1/4, 375 < 2 * 224
  const Image small = decode_file(dir + "/images/photo_640x480_q90.jpg", fast);
  CHECK((small.width == 640 && small.height == 480));  // 1/2 would leave 240 < 448
  const Image png = decode_file(dir + "/images/wide_257x129.png", fast);
  CHECK((png.width == 257 && png.height == 129));  // not a JPEG: unaffected
  const Image rotated = decode_file(dir + "/images/exif_rotate6_400x300.jpg", fast_options_for(clip, {}));
  CHECK((rotated.width == 300 && rotated.height == 400));
}

TEST_CASE("raw pixels: RGB with stride, RGBA and gray") {
  const int w = 3, h = 2;
  const Bytes rgba = fixtures::pattern(w, h, 4);
  Bytes rgb, strided;
  for (size_t i = 0; i < rgba.size(); i += 4) rgb.insert(rgb.end(), {rgba[i], rgba[i + 1], rgba[i + 2]});
  for (int y = 0; y < h; ++y) {
    strided.insert(strided.end(), rgb.begin() + y * w * 3, rgb.begin() + (y + 1) * w * 3);
    strided.insert(strided.end(), {0xEE, 0xEE});  // padding at each row's end
  }
  CHECK(px(from_pixels(rgb.data(), w, h, 0, PixelFormat::rgb8)) == rgb);
  CHECK(px(from_pixels(strided.data(), w, h, w * 3 + 2, PixelFormat::rgb8)) == rgb);
  CHECK(px(from_pixels(rgba.data(), w, h, 0, PixelFormat::rgba8)) == rgb);
  const Bytes gray = {1, 2, 3, 4, 5, 6};
  CHECK(px(from_pixels(gray.data(), w, h, 0, PixelFormat::gray8)) ==
        Bytes{1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6});
  CHECK_THROWS_AS(from_pixels(nullptr, w, h, 0, PixelFormat::rgb8), cbir::Error);
  CHECK_THROWS_AS(from_pixels(rgb.data(), 0, h, 0, PixelFormat::rgb8), cbir::Error);
  CHECK_THROWS_AS(from_pixels(rgb.data(), w, h, 5, PixelFormat::rgb8), cbir::Error);
}

TEST_CASE("a JPEG process libjpeg-turbo cannot decode is an unsupported format, not damage") {
  CBIR_REQUIRE_GOLDEN(dir);
  Bytes jpeg = fixtures::read_bytes(dir + "/images/photo_640x480_q90.jpg");
  bool patched = false;
  for (size_t i = 2; i + 1 < jpeg.size() && !patched; ++i)
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      jpeg[i + 1] = 0xC3;  // baseline -> lossless (SOF3)
      patched = true;
    }
  REQUIRE(patched);
  const Outcome o = decode(jpeg);
  INFO(o.message);
  CHECK(o.code == CBIR_EIMAGE_FORMAT);
  CHECK(contains(o.message, "not supported"));
}
