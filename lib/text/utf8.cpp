#include "text/utf8.hpp"

namespace cbir::text {

namespace {

// Walks `bytes`, handing each code point to `emit`; stops at the first ill-formed sequence.
template <class Emit>
bool walk_utf8(std::string_view bytes, Utf8Problem& problem, Emit&& emit) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  auto bad = [&](const char* reason) {
    problem.offset = i;
    problem.reason = reason;
    return false;
  };
  while (i < n) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      emit(b);
      ++i;
      continue;
    }
    size_t len;
    char32_t cp;
    char32_t min;  // the smallest value this length may encode (smaller ones are overlong)
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2, cp = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3, cp = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4, cp = b & 0x07, min = 0x10000;
    } else if (b >= 0x80 && b <= 0xBF) {
      return bad("continuation byte without a lead byte");
    } else if (b == 0xC0 || b == 0xC1) {
      return bad("overlong encoding");
    } else {
      return bad("byte that never appears in UTF-8");
    }
    for (size_t k = 1; k < len; ++k) {
      if (i + k >= n) return bad("sequence cut short by the end of the text");
      if ((s[i + k] & 0xC0) != 0x80) return bad("lead byte without its continuation bytes");
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min) return bad("overlong encoding");
    if (cp >= 0xD800 && cp <= 0xDFFF) return bad("UTF-16 surrogate");
    if (cp > 0x10FFFF) return bad("code point beyond U+10FFFF");
    emit(cp);
    i += len;
  }
  return true;
}

}  // namespace

bool check_utf8(std::string_view bytes, Utf8Problem& problem) {
  return walk_utf8(bytes, problem, [](char32_t) {});
}

bool decode_utf8(std::string_view bytes, std::vector<char32_t>& out, Utf8Problem& problem) {
  return walk_utf8(bytes, problem, [&](char32_t cp) { out.push_back(cp); });
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace cbir::text
