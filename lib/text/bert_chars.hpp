// The character rules of BERT's BasicTokenizer as Chinese-CLIP ships it (Google's
// tokenization.py), and the parts of Python's str behaviour it relies on, over utf8proc's tables.
#pragma once

#include <cstddef>
#include <vector>

namespace cbir::text {

// What the first pass (_clean_text, _tokenize_chinese_chars, whitespace split) does with a
// code point.
enum class CharKind : unsigned char {
  kDropped,  // NUL, U+FFFD, and control/format characters (Cc, Cf) other than \t \n \r
  kSpace,    // separates tokens: \t \n \r, Zs, and U+2028/U+2029 (on which str.split() splits)
  kCjk,      // a CJK ideograph: always a token of its own
  kWord,     // anything else: part of a token
};
CharKind classify(char32_t cp);

// ASCII non-alphanumerics and every Unicode P* character.
bool is_punctuation(char32_t cp);

// Python's str.isspace(), which str.strip() and str.split() use.
bool is_python_space(char32_t cp);

// Appends Python's `unicodedata.normalize("NFD", token.lower())` without the Mn characters:
// BasicTokenizer's lower-casing and _run_strip_accents. Lower-casing is Python's: full mappings
// and the final-sigma rule, which looks at the whole token.
void lower_and_strip_accents(const char32_t* token, size_t n, std::vector<char32_t>& out);

}  // namespace cbir::text
