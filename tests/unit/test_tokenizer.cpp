// The tokenizer's rules, one by one, with a small vocab of the test's own. The expectations
// follow BERT's BasicTokenizer + WordpieceTokenizer as Chinese-CLIP ships them.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "test_tokenizer_util.hpp"

using cbir::text::Tokenizer;
using tok_test::error_of;
using tok_test::pieces;
using Pieces = std::vector<std::string>;

namespace {

// Special tokens away from BERT's usual ids, so that nothing can rely on 0/100/101/102.
std::vector<std::string> test_vocab() {
  return {"[UNK]", "[CLS]", "[SEP]", "[PAD]",
          "hello", "world", "Hello", "un", "##aff", "##able", "a", "aa", "##a", "b", "##b",
          "c", "d", "e", "cafe", "café", "naive", "i", ".", ",", "!", "$", "^", "`", "-", "+",
          "，", "。", "«", "»", "猫", "狗", "豈", "の", "##の", "ο", "σ", "##σ", "##ς", "##δ",
          "##ο", "ᄒ", "##ᅡ", "##ᆫ", "x", "##x"};
}

const Tokenizer& tok() {
  static const Tokenizer t = Tokenizer::from_vocab(test_vocab());
  return t;
}

std::vector<int64_t> encode_one(const Tokenizer& t, const std::string& text, int context_length,
                                int32_t* length = nullptr) {
  std::vector<int64_t> ids(static_cast<size_t>(context_length), -7);
  t.encode({text}, context_length, ids.data(), length);
  return ids;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("cbir_tok_test_" + std::to_string(reinterpret_cast<uintptr_t>(this)) + "_" +
            std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::string file = (path / name).string();
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }
};

}  // namespace

TEST_CASE("special tokens are looked up in the vocab, not assumed") {
  CHECK(tok().unk_id() == 0);
  CHECK(tok().cls_id() == 1);
  CHECK(tok().sep_id() == 2);
  CHECK(tok().pad_id() == 3);
  CHECK(tok().vocab_size() == test_vocab().size());
  CHECK(tok().token(4) == "hello");
  CHECK(tok().id_of("world") == 5);
  CHECK(tok().id_of("nope") == -1);
  CHECK(error_of([] { tok().token(-1); }).first == CBIR_EINVAL);
  CHECK(error_of([] { tok().token(50); }).first == CBIR_EINVAL);
}

TEST_CASE("clean-up drops NUL, U+FFFD and control/format characters, joining their neighbours") {
  CHECK(pieces(tok(), std::string("hel\0lo", 6)) == Pieces{"hello"});
  CHECK(pieces(tok(), "hel\xEF\xBF\xBDlo") == Pieces{"hello"});  // U+FFFD
  CHECK(pieces(tok(), "hel\x07lo") == Pieces{"hello"});            // BEL (Cc)
  CHECK(pieces(tok(), "hel\x0Blo") == Pieces{"hello"});            // vertical tab: Cc, not space
  CHECK(pieces(tok(), "hel\x7Flo") == Pieces{"hello"});            // DEL
  CHECK(pieces(tok(), "hel\xC2\x85lo") == Pieces{"hello"});        // NEL (Cc)
  CHECK(pieces(tok(), "hel\xC2\xADlo") == Pieces{"hello"});        // soft hyphen (Cf)
  CHECK(pieces(tok(), "hel\xE2\x80\x8Blo") == Pieces{"hello"});    // zero-width space (Cf)
}

TEST_CASE("whitespace separates tokens, however it is spelled") {
  for (const char* sep : {" ", "\t", "\n", "\r", "\r\n", "   ", "\xC2\xA0" /* NBSP */,
                          "\xE3\x80\x80" /* U+3000 */, "\xE2\x80\xA8" /* U+2028 (Zl) */,
                          "\xE2\x80\xA9" /* U+2029 (Zp) */}) {
    INFO("separator bytes: " << sep);
    CHECK(pieces(tok(), std::string("hello") + sep + "world") == Pieces{"hello", "world"});
  }
  CHECK(pieces(tok(), "  hello   world \n") == Pieces{"hello", "world"});
  CHECK(pieces(tok(), " \t\r\n").empty());
}

TEST_CASE("every CJK ideograph is a token of its own; kana and Hangul are not") {
  CHECK(pieces(tok(), "猫狗") == Pieces{"猫", "狗"});
  CHECK(pieces(tok(), "a猫b") == Pieces{"a", "猫", "b"});
  // A compatibility ideograph (U+F900) is split off too, and NFD turns it into U+8C48.
  CHECK(pieces(tok(), "a\xEF\xA4\x80" "b") == Pieces{"a", "豈", "b"});
  CHECK(pieces(tok(), "a\xF0\xA0\x80\x80" "b") == Pieces{"a", "[UNK]", "b"});  // U+20000
  CHECK(pieces(tok(), "のの") == Pieces{"の", "##の"});  // hiragana stays one word
}

TEST_CASE("lower-casing follows Python's str.lower(), final sigma included") {
  CHECK(pieces(tok(), "HELLO WoRlD") == Pieces{"hello", "world"});
  CHECK(pieces(tok(), "\xC4\xB0") == Pieces{"i"});  // U+0130 -> "i" + U+0307 (stripped)
  // Σ is ς at the end of a word (after a cased letter), σ elsewhere; '.' is case-ignorable.
  CHECK(pieces(tok(), "ΟΔΟΣ") == Pieces{"ο", "##δ", "##ο", "##ς"});
  CHECK(pieces(tok(), "ΟΣΟ") == Pieces{"ο", "##σ", "##ο"});
  CHECK(pieces(tok(), "Σ") == Pieces{"σ"});  // nothing cased before it
  CHECK(pieces(tok(), "ΟΣ.") == Pieces{"ο", "##ς", "."});
  CHECK(pieces(tok(), "ΟΣ.Ο") == Pieces{"ο", "##σ", ".", "ο"});
}

TEST_CASE("accents are stripped: NFD, then nonspacing marks (Mn) dropped") {
  CHECK(pieces(tok(), "café") == Pieces{"cafe"});
  CHECK(pieces(tok(), "CAFÉ") == Pieces{"cafe"});
  CHECK(pieces(tok(), "cafe\xCC\x81") == Pieces{"cafe"});  // e + combining acute
  CHECK(pieces(tok(), "naïve") == Pieces{"naive"});
  CHECK(pieces(tok(), "한") == Pieces{"ᄒ", "##ᅡ", "##ᆫ"});  // Hangul syllable -> jamo
  // Spacing (Mc) and enclosing (Me) marks are not Mn: they stay, and the word is unknown.
  CHECK(pieces(tok(), "a\xE0\xA4\x83") == Pieces{"[UNK]"});  // U+0903
  CHECK(pieces(tok(), "a\xE2\x83\x9D") == Pieces{"[UNK]"});  // U+20DD
}

TEST_CASE("lower_case = false keeps case and accents") {
  const Tokenizer cased = Tokenizer::from_vocab(test_vocab(), false);
  CHECK_FALSE(cased.lower_case());
  CHECK(pieces(cased, "Hello hello") == Pieces{"Hello", "hello"});
  CHECK(pieces(cased, "café") == Pieces{"café"});
  CHECK(pieces(cased, "HELLO") == Pieces{"[UNK]"});
}

TEST_CASE("punctuation is split off: ASCII non-alphanumerics and Unicode P*") {
  CHECK(pieces(tok(), "hello,world!") == Pieces{"hello", ",", "world", "!"});
  // $ ^ ` are not P* in Unicode, but BERT counts every ASCII non-alphanumeric.
  CHECK(pieces(tok(), "a$b^c`d") == Pieces{"a", "$", "b", "^", "c", "`", "d"});
  CHECK(pieces(tok(), "a+b-c") == Pieces{"a", "+", "b", "-", "c"});
  CHECK(pieces(tok(), "a，b。") == Pieces{"a", "，", "b", "。"});
  CHECK(pieces(tok(), "«hello»") == Pieces{"«", "hello", "»"});
  CHECK(pieces(tok(), "...") == Pieces{".", ".", "."});
  // Symbols (S*) are not punctuation: © (So) stays inside the word.
  CHECK(pieces(tok(), "a\xC2\xA9" "b") == Pieces{"[UNK]"});
}

TEST_CASE("WordPiece: greedy longest match with ## continuations") {
  CHECK(pieces(tok(), "unaffable") == Pieces{"un", "##aff", "##able"});
  CHECK(pieces(tok(), "aaa") == Pieces{"aa", "##a"});  // longest first piece, not a + ##a + ##a
  CHECK(pieces(tok(), "aab") == Pieces{"aa", "##b"});
  // A word with any unmatchable part is one [UNK], not a partial split.
  CHECK(pieces(tok(), "unaffablez") == Pieces{"[UNK]"});
  CHECK(pieces(tok(), "hello unaffablez world") == Pieces{"hello", "[UNK]", "world"});
  // Continuations are only looked up with "##": "ab" needs ##b, which this vocab lacks.
  const Tokenizer no_hash = Tokenizer::from_vocab({"[UNK]", "[CLS]", "[SEP]", "[PAD]", "a", "b"});
  CHECK(pieces(no_hash, "ab") == Pieces{"[UNK]"});
  CHECK(pieces(no_hash, "a b") == Pieces{"a", "b"});
}

TEST_CASE("a word longer than 200 characters is [UNK]") {
  static_assert(Tokenizer::kMaxCharsPerWord == 200, "Chinese-CLIP's max_input_chars_per_word");
  std::vector<int32_t> ids = tok().wordpiece_ids(std::string(200, 'x'));
  REQUIRE(ids.size() == 200);
  CHECK(tok().token(ids[0]) == "x");
  CHECK(tok().token(ids[199]) == "##x");
  CHECK(pieces(tok(), std::string(201, 'x')) == Pieces{"[UNK]"});
  // Characters, not bytes: 200 two-byte characters are still matched piece by piece.
  std::string greek;
  for (int i = 0; i < 200; ++i) greek += "σ";
  CHECK(tok().wordpiece_ids(greek).size() == 200);
  CHECK(pieces(tok(), greek + "σ") == Pieces{"[UNK]"});
}

TEST_CASE("encode: [CLS] pieces [SEP], truncated to context_length - 2, padded with [PAD]") {
  int32_t length = -1;
  CHECK(encode_one(tok(), "hello world", 6, &length) == std::vector<int64_t>{1, 4, 5, 2, 3, 3});
  CHECK(length == 4);
  // Truncation keeps the first context_length - 2 pieces and still ends with [SEP].
  CHECK(encode_one(tok(), "a b c d e", 5, &length) == std::vector<int64_t>{1, 10, 13, 15, 2});
  CHECK(length == 5);
  CHECK(encode_one(tok(), "a b c", 2, &length) == std::vector<int64_t>{1, 2});
  CHECK(length == 2);
  // A word's pieces are cut like any others.
  CHECK(encode_one(tok(), "unaffable", 4, &length) == std::vector<int64_t>{1, 7, 8, 2});
  // Empty and all-dropped texts are valid: [CLS] [SEP].
  for (std::string empty : {std::string(), std::string(" \t\n"), std::string("\x07\x7F")}) {
    CHECK(encode_one(tok(), empty, 4, &length) == std::vector<int64_t>{1, 2, 3, 3});
    CHECK(length == 2);
  }
  CHECK(error_of([] { encode_one(tok(), "a", 1); }).first == CBIR_EINVAL);
  CHECK(error_of([] { encode_one(tok(), "a", 0); }).first == CBIR_EINVAL);
}

TEST_CASE("encode: a batch equals its texts one by one, lengths tell the real rows") {
  const std::vector<std::string> texts = {"hello world", "", "unaffable aaa 猫狗",
                                          "a b c d e f g", "ΟΔΟΣ café"};
  const int L = 8;
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<int64_t> ids(texts.size() * L, -7);
  std::vector<int32_t> lengths(texts.size(), -7);
  tok().encode(views, L, ids.data(), lengths.data());
  for (size_t i = 0; i < texts.size(); ++i) {
    int32_t length = -1;
    std::vector<int64_t> row = encode_one(tok(), texts[i], L, &length);
    CHECK(std::vector<int64_t>(ids.begin() + i * L, ids.begin() + (i + 1) * L) == row);
    CHECK(lengths[i] == length);
    size_t pieces_count = tok().wordpiece_ids(texts[i]).size();
    CHECK(length == static_cast<int32_t>(std::min<size_t>(pieces_count, L - 2) + 2));
  }
  // lengths may be omitted; no texts is no work.
  tok().encode(views, L, ids.data(), nullptr);
  tok().encode({}, L, nullptr, nullptr);
}

TEST_CASE("invalid UTF-8 is refused with CBIR_EINVAL naming the byte offset") {
  struct Case {
    std::string bytes;
    size_t offset;
    const char* reason;
  };
  const Case cases[] = {
      {"ab\xFF", 2, "never appears"},
      {"a\x80", 1, "continuation byte"},
      {"\xC3", 0, "cut short"},
      {"ok \xE2\x82", 3, "cut short"},
      {"\xE2(\xA1", 0, "without its continuation"},
      {"\xC0\xAF", 0, "overlong"},
      {"\xE0\x80\xAF", 0, "overlong"},
      {"x\xED\xA0\x80", 1, "surrogate"},
      {"\xF4\x90\x80\x80", 0, "beyond U+10FFFF"},
      {"\xF8\x88\x80\x80\x80", 0, "never appears"},
  };
  for (const Case& c : cases) {
    INFO("bytes: " << c.bytes);
    auto [code, message] = error_of([&] { tok().wordpiece_ids(c.bytes); });
    CHECK(code == CBIR_EINVAL);
    CHECK_THAT(message, Catch::Contains("invalid UTF-8 at byte " + std::to_string(c.offset)));
    CHECK_THAT(message, Catch::Contains(c.reason));
  }
  // In a batch the message names the text too.
  std::vector<int64_t> ids(3 * 4);
  auto [code, message] =
      error_of([&] { tok().encode({"ok", "fine \xFF", "x"}, 4, ids.data(), nullptr); });
  CHECK(code == CBIR_EINVAL);
  CHECK_THAT(message, Catch::StartsWith("text 1: invalid UTF-8 at byte 5"));
  // The largest code points and the edges of the surrogate range are fine.
  CHECK_NOTHROW(tok().wordpiece_ids("\xF4\x8F\xBF\xBF \xED\x9F\xBF \xEE\x80\x80"));
}

TEST_CASE("vocab files are read as Chinese-CLIP reads them") {
  TempDir dir;
  // \n, \r\n and \r all end lines; tokens are stripped of whitespace (U+3000 included); an
  // empty line still takes an id; a token listed twice keeps its last id.
  const std::string file = dir.write(
      "vocab.txt", "[PAD]\r\n[UNK]\r[CLS]\n  [SEP]  \n\nhello\n\xE3\x80\x80world\t\nhello");
  const Tokenizer t = Tokenizer::from_vocab_file(file);
  CHECK(t.vocab_size() == 8);
  CHECK(t.pad_id() == 0);
  CHECK(t.unk_id() == 1);
  CHECK(t.cls_id() == 2);
  CHECK(t.sep_id() == 3);
  CHECK(t.token(4).empty());
  CHECK(t.token(6) == "world");
  CHECK(t.id_of("hello") == 7);
  CHECK(t.wordpiece_ids("hello world") == std::vector<int32_t>{7, 6});
}

TEST_CASE("bad vocab files get clear errors") {
  TempDir dir;
  auto [code, message] =
      error_of([&] { Tokenizer::from_vocab_file((dir.path / "none.txt").string()); });
  CHECK(code == CBIR_ENOTFOUND);
  CHECK_THAT(message, Catch::Contains("none.txt"));

  std::tie(code, message) = error_of([&] { Tokenizer::from_vocab_file(dir.path.string()); });
  CHECK(code == CBIR_EINVAL);
  CHECK_THAT(message, Catch::Contains("folder"));

  const std::string no_sep = dir.write("no_sep.txt", "[PAD]\n[UNK]\n[CLS]\nhello\n");
  std::tie(code, message) = error_of([&] { Tokenizer::from_vocab_file(no_sep); });
  CHECK(code == CBIR_ECORRUPT);
  CHECK_THAT(message, Catch::Contains("[SEP]") && Catch::Contains("no_sep.txt"));

  const std::string latin1 = dir.write("latin1.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\ncaf\xE9\n");
  std::tie(code, message) = error_of([&] { Tokenizer::from_vocab_file(latin1); });
  CHECK(code == CBIR_ECORRUPT);
  CHECK_THAT(message, Catch::Contains("line 5") && Catch::Contains("UTF-8"));

  std::tie(code, message) = error_of([] { Tokenizer::from_vocab({"[PAD]", "[UNK]", "[CLS]"}); });
  CHECK(code == CBIR_EINVAL);
  CHECK_THAT(message, Catch::Contains("[SEP]"));
  std::tie(code, message) =
      error_of([] { Tokenizer::from_vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "\xFF"}); });
  CHECK(code == CBIR_EINVAL);
  CHECK_THAT(message, Catch::Contains("token 4"));
}

TEST_CASE("a tokenizer can be copied and moved and keeps working") {
  Tokenizer a = Tokenizer::from_vocab(test_vocab());
  Tokenizer b = a;
  Tokenizer c = std::move(a);
  CHECK(pieces(b, "unaffable") == Pieces{"un", "##aff", "##able"});
  CHECK(pieces(c, "unaffable") == Pieces{"un", "##aff", "##able"});
}
