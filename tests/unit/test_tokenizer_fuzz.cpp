// Fuzz-style: many thousands of random byte strings and random valid UTF-8 texts. Nothing may
// crash (ASan/UBSan builds run this too); invalid UTF-8 must be refused at the byte offset an
// independent decoder (utf8proc_iterate) finds; valid text must give well-formed rows.
#include <catch2/catch.hpp>

#include <utf8proc.h>

#include <random>
#include <string>
#include <vector>

#include "golden.hpp"
#include "test_tokenizer_util.hpp"

using cbir::text::Tokenizer;

namespace {

// The offset of the first ill-formed sequence according to utf8proc, or npos.
size_t first_invalid_offset(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data()) + i,
                                          static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (n <= 0) return i;
    i += static_cast<size_t>(n);
  }
  return std::string::npos;
}

// Bytes biased towards the interesting ones: lead and continuation bytes, ASCII, controls.
std::string random_bytes(std::mt19937& rng) {
  static const unsigned char interesting[] = {0x00, 0x07, 0x20, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2,
                                              0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  std::string s(std::uniform_int_distribution<size_t>(0, 40)(rng), '\0');
  for (char& c : s) {
    unsigned r = rng() % 4;
    c = static_cast<char>(r == 0 ? interesting[rng() % sizeof interesting] : rng() % 256);
  }
  return s;
}

// Code points from the ranges the tokenizer treats specially, and from everywhere else.
char32_t random_code_point(std::mt19937& rng) {
  static const std::pair<char32_t, char32_t> ranges[] = {
      {0x00, 0x7F},       {0x80, 0x24F},      {0x300, 0x36F},     {0x370, 0x3FF},
      {0x3A3, 0x3A3},     {0x400, 0x4FF},     {0x900, 0x97F},     {0x1100, 0x11FF},
      {0x2000, 0x206F},   {0x2160, 0x217F},   {0x3000, 0x30FF},   {0x4E00, 0x9FFF},
      {0xAC00, 0xD7A3},   {0xE000, 0xF8FF},   {0xF900, 0xFAFF},   {0xFE00, 0xFFFF},
      {0x1D165, 0x1D172}, {0x1F300, 0x1F64F}, {0x20000, 0x2A6DF}, {0x2F800, 0x2FA1F},
      {0x0, 0x10FFFF}};
  const auto& [lo, hi] = ranges[rng() % (sizeof ranges / sizeof ranges[0])];
  char32_t cp = lo + static_cast<char32_t>(rng() % (hi - lo + 1));
  return (cp >= 0xD800 && cp <= 0xDFFF) ? 0xFFFD : cp;
}

std::string random_text(std::mt19937& rng) {
  std::string s;
  size_t n = std::uniform_int_distribution<size_t>(0, 30)(rng);
  for (size_t i = 0; i < n; ++i) {
    char32_t cp = random_code_point(rng);
    // Short ASCII words and spaces now and then, so that WordPiece gets real words to split.
    static const std::u32string words = U"the cat sat on a mat, ΟΔΟΣ! ";
    if (rng() % 3 == 0) cp = words[rng() % words.size()];
    utf8proc_uint8_t buf[4];
    s.append(reinterpret_cast<char*>(buf), static_cast<size_t>(utf8proc_encode_char(
                                               static_cast<utf8proc_int32_t>(cp), buf)));
  }
  return s;
}

std::vector<Tokenizer> tokenizers() {
  std::vector<Tokenizer> out;
  out.push_back(Tokenizer::from_vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "##s",
                                       "a", "##t", "on", "m", "##at", ",", "!", "ο", "##δ", "##ς"}));
  const std::string dir = cbir_test::golden_dir();
  if (!dir.empty()) out.push_back(Tokenizer::from_vocab_file(dir + "/vocab.txt"));
  return out;
}

// Whether one row of encode() output is [CLS], the first L - 2 of the text's pieces, [SEP],
// then [PAD], with `length` its real length.
bool row_is_well_formed(const Tokenizer& tok, const int64_t* row, int32_t length, int L,
                        const std::vector<int32_t>& pieces) {
  const size_t n = std::min<size_t>(pieces.size(), size_t(L) - 2);
  if (length != static_cast<int32_t>(n + 2)) return false;
  if (row[0] != tok.cls_id() || row[n + 1] != tok.sep_id()) return false;
  for (size_t j = 0; j < n; ++j)
    if (row[j + 1] != pieces[j]) return false;
  for (size_t j = n + 2; j < size_t(L); ++j)
    if (row[j] != tok.pad_id()) return false;
  return true;
}

}  // namespace

TEST_CASE("fuzz: random bytes are tokenized or refused at the right offset, never crash") {
  std::mt19937 rng(20240603);
  for (const Tokenizer& tok : tokenizers()) {
    // Counted per tokenizer, so the bar is the same whether the golden vocabulary is there or not.
    size_t valid = 0, invalid = 0;
    for (int i = 0; i < 20000; ++i) {
      const std::string s = random_bytes(rng);
      const size_t bad = first_invalid_offset(s);
      auto [code, message] = tok_test::error_of([&] {
        for (int32_t id : tok.wordpiece_ids(s))
          if (id < 0 || size_t(id) >= tok.vocab_size()) FAIL("id " << id << " out of range");
      });
      const std::string expected = "invalid UTF-8 at byte " + std::to_string(bad) + " (";
      if (bad == std::string::npos) {
        ++valid;
        if (code != CBIR_OK) FAIL("valid UTF-8 refused: " << message);
      } else {
        ++invalid;
        if (code != CBIR_EINVAL || message.rfind(expected, 0) != 0)
          FAIL("expected '" << expected << "...', got " << code << ": " << message);
      }
    }
    INFO("vocabulary of " << tok.vocab_size() << " tokens");
    CHECK(valid > 500);
    CHECK(invalid > 500);
  }
}

TEST_CASE("fuzz: random valid UTF-8 gives well-formed, consistent rows") {
  std::mt19937 rng(7);
  for (const Tokenizer& tok : tokenizers()) {
    for (int round = 0; round < 1000; ++round) {
      std::vector<std::string> texts(20);
      for (std::string& t : texts) t = random_text(rng);
      std::vector<std::string_view> views(texts.begin(), texts.end());
      for (int L : {2, 5, 52}) {
        std::vector<int64_t> ids(texts.size() * size_t(L), -7);
        std::vector<int32_t> lengths(texts.size(), -7);
        tok.encode(views, L, ids.data(), lengths.data());
        for (size_t i = 0; i < texts.size(); ++i) {
          INFO("text: " << texts[i]);
          const std::vector<int32_t> pieces = tok.wordpiece_ids(texts[i]);
          for (int32_t id : pieces)
            if (id < 0 || size_t(id) >= tok.vocab_size()) FAIL("id " << id << " out of range");
          if (!row_is_well_formed(tok, ids.data() + i * size_t(L), lengths[i], L, pieces))
            FAIL("bad row for context_length " << L);
        }
      }
    }
  }
}
