// Strict UTF-8 decoding (as Python's str.decode("utf-8") accepts it) and encoding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cbir::text {

// Where and why a byte string stops being UTF-8.
struct Utf8Problem {
  size_t offset = 0;         // byte offset of the first byte of the bad sequence
  const char* reason = "";  // static text, e.g. "UTF-16 surrogate"
};

// Appends the code points of `bytes` to `out`. Returns false (leaving `out` partly filled) and
// fills `problem` at the first ill-formed sequence: stray continuation bytes, overlong forms,
// UTF-16 surrogates, values past U+10FFFF and sequences cut short are all refused.
bool decode_utf8(std::string_view bytes, std::vector<char32_t>& out, Utf8Problem& problem);

// Appends the UTF-8 form of a valid code point.
void append_utf8(char32_t cp, std::string& out);

}  // namespace cbir::text
