// The tokenizer's C API, against the real libcbir: handles, buffers, options, errors, threads.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cbir.h"

namespace fs = std::filesystem;

namespace {

const char* const kVocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\nHello\nun\n##aff\n##able\n";
const int64_t PAD = 0, UNK = 1, CLS = 2, SEP = 3, HELLO = 4, WORLD = 5, CAP_HELLO = 6;

struct Fixture {
  fs::path dir = fs::temp_directory_path() / ("cbir_tok_capi_" + std::to_string(::getpid()));
  std::string vocab;
  cbir_tokenizer_t* tok = nullptr;
  Fixture() {
    fs::create_directories(dir / "bundle");
    vocab = (dir / "vocab.txt").string();
    std::ofstream(vocab) << kVocab;
    std::ofstream((dir / "bundle" / "vocab.txt").string()) << kVocab;
    REQUIRE(cbir_tokenizer_open(&tok, vocab.c_str(), nullptr) == CBIR_OK);
  }
  ~Fixture() {
    cbir_tokenizer_close(tok);
    fs::remove_all(dir);
  }
  std::string last_error() const { return cbir_last_error(); }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "cbir_tokenize fills rows, lengths and padding") {
  const char* texts[] = {"Hello, world!", "", "unaffable hello"};
  std::vector<int64_t> ids(3 * 5, -7);
  std::vector<int32_t> lengths(3, -7);
  REQUIRE(cbir_tokenize(ids.data(), lengths.data(), tok, texts, 3, 5) == CBIR_OK);
  CHECK(ids == std::vector<int64_t>{CLS, HELLO, UNK, WORLD, SEP,  // ", world !": 3 pieces fit
                                    CLS, SEP, PAD, PAD, PAD,      //
                                    CLS, 7, 8, 9, SEP});          // un ##aff ##able, hello cut
  CHECK(lengths == std::vector<int32_t>{5, 2, 5});
  CHECK(std::string(cbir_last_error()).empty());

  // lengths may be NULL; n == 0 needs no buffers at all.
  CHECK(cbir_tokenize(ids.data(), nullptr, tok, texts, 1, 5) == CBIR_OK);
  CHECK(cbir_tokenize(nullptr, nullptr, tok, nullptr, 0, 52) == CBIR_OK);
}

TEST_CASE_METHOD(Fixture, "cbir_tokenize refuses bad arguments with a message") {
  const char* texts[] = {"hello", nullptr};
  std::vector<int64_t> ids(2 * 52);
  CHECK(cbir_tokenize(ids.data(), nullptr, nullptr, texts, 1, 52) == CBIR_EINVAL);
  CHECK(last_error() == "tokenizer must not be NULL");
  CHECK(cbir_tokenize(nullptr, nullptr, tok, texts, 1, 52) == CBIR_EINVAL);
  CHECK(last_error() == "ids must not be NULL");
  CHECK(cbir_tokenize(ids.data(), nullptr, tok, nullptr, 1, 52) == CBIR_EINVAL);
  CHECK(last_error() == "texts must not be NULL");
  CHECK(cbir_tokenize(ids.data(), nullptr, tok, texts, 2, 52) == CBIR_EINVAL);
  CHECK(last_error() == "texts[1] is NULL");
  for (size_t bad : {size_t(0), size_t(1)}) {
    CHECK(cbir_tokenize(ids.data(), nullptr, tok, texts, 1, bad) == CBIR_EINVAL);
    CHECK_THAT(last_error(), Catch::Contains("context_length must be at least 2"));
  }
  CHECK(cbir_tokenize(ids.data(), nullptr, tok, texts, 1, SIZE_MAX / 4) == CBIR_EINVAL);
  CHECK_THAT(last_error(), Catch::Contains("too large"));

  const char* bad_utf8[] = {"fine", "caf\xC3"};
  CHECK(cbir_tokenize(ids.data(), nullptr, tok, bad_utf8, 2, 52) == CBIR_EINVAL);
  CHECK_THAT(last_error(), Catch::StartsWith("text 1: invalid UTF-8 at byte 3"));
}

TEST_CASE_METHOD(Fixture, "tokens and vocab size") {
  CHECK(cbir_tokenizer_vocab_size(tok) == 10);
  CHECK(std::string(cbir_tokenizer_token(tok, CLS)) == "[CLS]");
  CHECK(std::string(cbir_tokenizer_token(tok, 9)) == "##able");
  CHECK(cbir_tokenizer_token(tok, 10) == nullptr);
  CHECK(cbir_tokenizer_token(tok, -1) == nullptr);
  CHECK(cbir_tokenizer_token(nullptr, 0) == nullptr);
  CHECK(cbir_tokenizer_vocab_size(nullptr) == 0);
}

TEST_CASE_METHOD(Fixture, "cbir_tokenizer_open: folders, options and errors") {
  cbir_tokenizer_t* other = reinterpret_cast<cbir_tokenizer_t*>(&other);  // must become NULL

  // A bundle folder stands for its vocab.txt.
  REQUIRE(cbir_tokenizer_open(&other, (dir / "bundle").c_str(), nullptr) == CBIR_OK);
  CHECK(cbir_tokenizer_vocab_size(other) == 10);
  cbir_tokenizer_close(other);

  other = reinterpret_cast<cbir_tokenizer_t*>(&other);
  CHECK(cbir_tokenizer_open(&other, dir.c_str(), nullptr) == CBIR_OK);  // dir has vocab.txt too
  cbir_tokenizer_close(other);

  fs::create_directories(dir / "empty");
  other = reinterpret_cast<cbir_tokenizer_t*>(&other);
  CHECK(cbir_tokenizer_open(&other, (dir / "empty").c_str(), nullptr) == CBIR_ENOTFOUND);
  CHECK(other == nullptr);
  CHECK_THAT(last_error(), Catch::Contains("holds no vocab.txt"));

  other = reinterpret_cast<cbir_tokenizer_t*>(&other);
  CHECK(cbir_tokenizer_open(&other, (dir / "missing.txt").c_str(), nullptr) == CBIR_ENOTFOUND);
  CHECK(other == nullptr);
  CHECK_THAT(last_error(), Catch::Contains("missing.txt"));

  const std::string not_vocab = (dir / "not_vocab.txt").string();
  std::ofstream(not_vocab) << "just\nsome\nwords\n";
  CHECK(cbir_tokenizer_open(&other, not_vocab.c_str(), nullptr) == CBIR_ECORRUPT);
  CHECK_THAT(last_error(), Catch::Contains("not a BERT vocab.txt"));

  CHECK(cbir_tokenizer_open(nullptr, vocab.c_str(), nullptr) == CBIR_EINVAL);
  CHECK(last_error() == "out must not be NULL");
  CHECK(cbir_tokenizer_open(&other, nullptr, nullptr) == CBIR_EINVAL);
  CHECK(last_error() == "vocab_path must not be NULL");

  // Options: defaults lower-case; 0 keeps case; a bad version or value is refused.
  cbir_tokenizer_options_t opts = CBIR_TOKENIZER_OPTIONS_INIT;
  cbir_tokenizer_options_t from_function;
  cbir_tokenizer_options_init(&from_function);
  CHECK(from_function.version == opts.version);
  CHECK(from_function.lower_case == 1);
  cbir_tokenizer_options_init(nullptr);

  opts.lower_case = 0;
  REQUIRE(cbir_tokenizer_open(&other, vocab.c_str(), &opts) == CBIR_OK);
  const char* text = "Hello hello";
  int64_t ids[4];
  REQUIRE(cbir_tokenize(ids, nullptr, other, &text, 1, 4) == CBIR_OK);
  CHECK(std::vector<int64_t>(ids, ids + 4) == std::vector<int64_t>{CLS, CAP_HELLO, HELLO, SEP});
  cbir_tokenizer_close(other);

  opts.lower_case = 2;
  CHECK(cbir_tokenizer_open(&other, vocab.c_str(), &opts) == CBIR_EINVAL);
  CHECK_THAT(last_error(), Catch::Contains("lower_case"));
  opts.lower_case = 1;
  opts.version = 0;
  CHECK(cbir_tokenizer_open(&other, vocab.c_str(), &opts) == CBIR_EINVAL);
  CHECK_THAT(last_error(), Catch::Contains("unknown version"));

  cbir_tokenizer_close(nullptr);
}

TEST_CASE_METHOD(Fixture, "one tokenizer serves many threads at once") {
  const char* texts[] = {"hello world", "unaffable", "Hello, World!", ""};
  std::vector<int64_t> expected(4 * 8);
  REQUIRE(cbir_tokenize(expected.data(), nullptr, tok, texts, 4, 8) == CBIR_OK);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<int64_t> ids(4 * 8);
      for (int i = 0; i < 2000; ++i) {
        if (cbir_tokenize(ids.data(), nullptr, tok, texts, 4, 8) != CBIR_OK || ids != expected)
          ++mismatches[size_t(t)];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(mismatches == std::vector<int>(4, 0));
}
