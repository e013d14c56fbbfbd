#include "text/bert_chars.hpp"

#include <utf8proc.h>

#include <array>

namespace cbir::text {
namespace {

const utf8proc_property_t* props(char32_t cp) {
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
}
int category(char32_t cp) { return props(cp)->category; }
int combining_class(char32_t cp) { return props(cp)->combining_class; }

// ASCII needs no table lookups: most text is ASCII or CJK.
struct AsciiTables {
  std::array<CharKind, 128> kind{};
  std::array<bool, 128> punct{};
  constexpr AsciiTables() {
    for (int c = 0; c < 128; ++c) {
      bool control = c < 0x20 || c == 0x7F;
      bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
      kind[c] = space ? CharKind::kSpace : control ? CharKind::kDropped : CharKind::kWord;
      punct[c] = (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                 (c >= 123 && c <= 126);
    }
  }
};
constexpr AsciiTables kAscii;

// The blocks BERT calls "Chinese characters" (CJK Unified Ideographs and their extensions A-E,
// compatibility ideographs); Hiragana, Katakana and Hangul are not among them.
bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Unicode's Case_Ignorable: Mn, Me, Cf, Lm, Sk, and Word_Break MidLetter, MidNumLet, Single_Quote.
bool is_case_ignorable(char32_t cp) {
  switch (cp) {
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x55F: case 0x5F4:
    case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55:
    case 0xFF07: case 0xFF0E: case 0xFF1A:
      return true;
    default: break;
  }
  int c = category(cp);
  return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME || c == UTF8PROC_CATEGORY_CF ||
         c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_SK;
}

// Unicode's Cased (Lu, Ll, Lt, Other_Lowercase, Other_Uppercase), for characters that are not
// case-ignorable: the Other_* members that are not are listed here.
bool is_cased(char32_t cp) {
  int c = category(cp);
  if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT)
    return true;
  return cp == 0xAA || cp == 0xBA || (cp >= 0x2160 && cp <= 0x217F) ||
         (cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F149) ||
         (cp >= 0x1F150 && cp <= 0x1F169) || (cp >= 0x1F170 && cp <= 0x1F189);
}

// Python lower-cases U+03A3 to final sigma when a cased letter precedes it and none follows,
// skipping case-ignorable characters on both sides.
bool is_final_sigma(const char32_t* s, size_t n, size_t i) {
  size_t j = i;
  while (j > 0 && is_case_ignorable(s[j - 1])) --j;
  if (j == 0 || !is_cased(s[j - 1])) return false;
  j = i + 1;
  while (j < n && is_case_ignorable(s[j])) ++j;
  return j == n || !is_cased(s[j]);
}

}  // namespace

CharKind classify(char32_t cp) {
  if (cp < 0x80) return kAscii.kind[cp];
  if (is_cjk(cp)) return CharKind::kCjk;
  if (cp == 0xFFFD) return CharKind::kDropped;
  if (cp == 0x2028 || cp == 0x2029) return CharKind::kSpace;
  int c = category(cp);
  if (c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF) return CharKind::kDropped;
  if (c == UTF8PROC_CATEGORY_ZS) return CharKind::kSpace;
  return CharKind::kWord;
}

bool is_punctuation(char32_t cp) {
  if (cp < 0x80) return kAscii.punct[cp];
  int c = category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

bool is_python_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

void lower_and_strip_accents(const char32_t* token, size_t n, std::vector<char32_t>& out) {
  const size_t first = out.size();
  bool reorder = false;  // whether any combining mark needs canonical ordering
  for (size_t i = 0; i < n; ++i) {
    char32_t cp = token[i];
    if (cp < 0x80) {
      out.push_back(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
      continue;
    }
    const utf8proc_property_t* p = props(cp);
    const bool hangul_syllable = cp >= 0xAC00 && cp <= 0xD7A3;  // decomposed by rule, not table
    if (p->lowercase_seqindex == UINT16_MAX && p->decomp_seqindex == UINT16_MAX &&
        p->combining_class == 0 && p->category != UTF8PROC_CATEGORY_MN && !hangul_syllable) {
      out.push_back(cp);  // most characters: nothing to lower, decompose or strip
      continue;
    }
    char32_t lower;
    if (cp == 0x3A3) {
      lower = is_final_sigma(token, n, i) ? 0x3C2 : 0x3C3;
    } else if (cp == 0x130) {
      lower = 'i';  // Python gives "i\u0307"; the U+0307 is an Mn that is stripped below
    } else {
      lower = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
    }
    utf8proc_int32_t parts[8];
    int ignored = 0;
    utf8proc_ssize_t count = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(lower), parts,
                                                     8, UTF8PROC_DECOMPOSE, &ignored);
    if (count < 1 || count > 8) {  // no canonical decomposition is that long: keep it as it is
      parts[0] = static_cast<utf8proc_int32_t>(lower);
      count = 1;
    }
    for (utf8proc_ssize_t k = 0; k < count; ++k) {
      out.push_back(static_cast<char32_t>(parts[k]));
      reorder = reorder || combining_class(static_cast<char32_t>(parts[k])) != 0;
    }
  }
  if (reorder) {
    // NFD's canonical ordering: a stable sort by combining class of each run of marks.
    for (size_t i = first + 1; i < out.size(); ++i) {
      char32_t cp = out[i];
      int c = combining_class(cp);
      if (c == 0) continue;
      size_t j = i;
      while (j > first && combining_class(out[j - 1]) > c) {
        out[j] = out[j - 1];
        --j;
      }
      out[j] = cp;
    }
  }
  size_t kept = first;
  for (size_t i = first; i < out.size(); ++i)
    if (out[i] < 0x80 || category(out[i]) != UTF8PROC_CATEGORY_MN) out[kept++] = out[i];
  out.resize(kept);
}

}  // namespace cbir::text
