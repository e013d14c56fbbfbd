// Strict UTF-8 (as Python's bytes.decode("utf-8") accepts it): checking, decoding, encoding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cbir::text {

// Where and why a byte string stops being UTF-8.
struct Utf8Problem {
  size_t offset = 0;        // byte offset of the first byte of the bad sequence
  const char* reason = "";  // static text, e.g. "UTF-16 surrogate"
};

// Whether `bytes` is UTF-8. If not, `problem` tells the first ill-formed sequence: stray
// continuation bytes, overlong forms, UTF-16 surrogates, values past U+10FFFF and sequences cut
// short are all refused.
bool check_utf8(std::string_view bytes, Utf8Problem& problem);

// Appends the code points of `bytes` to `out`; false (with `problem` filled) as check_utf8.
bool decode_utf8(std::string_view bytes, std::vector<char32_t>& out, Utf8Problem& problem);

// The code point at `p` in text that check_utf8 accepted; moves `p` past it.
inline char32_t next_code_point(const unsigned char*& p) {
  const unsigned char b = *p++;
  if (b < 0x80) return b;
  if (b < 0xE0) return (char32_t(b & 0x1F) << 6) | (*p++ & 0x3F);
  if (b < 0xF0) {
    char32_t cp = (char32_t(b & 0x0F) << 12) | (char32_t(p[0] & 0x3F) << 6) | (p[1] & 0x3F);
    p += 2;
    return cp;
  }
  char32_t cp = (char32_t(b & 0x07) << 18) | (char32_t(p[0] & 0x3F) << 12) |
                (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  p += 3;
  return cp;
}

// Appends the UTF-8 form of a valid code point.
void append_utf8(char32_t cp, std::string& out);

}  // namespace cbir::text
