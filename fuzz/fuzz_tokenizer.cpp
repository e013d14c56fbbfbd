// The WordPiece tokenizer on arbitrary bytes (invalid UTF-8 included). The vocabulary is the
// file named by CBIR_FUZZ_VOCAB (scripts/fuzz passes the golden Chinese-CLIP vocab.txt when
// present) or a small built-in one. Any text must tokenize or fail with cbir::Error.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "text/tokenizer.hpp"
#include "fuzz_util.hpp"

using cbir::text::Tokenizer;

namespace {

std::unique_ptr<Tokenizer> g_tokenizer;

std::vector<std::string> builtin_vocab() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "red", "car", "##s", "##ing",
          "play", "the", "cat", "##ca", "é", "e", "!", ",", "红", "色", "的", "跑", "车",
          "##车", "猫", "1", "##2", "x"};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* vocab = std::getenv("CBIR_FUZZ_VOCAB");
  g_tokenizer = std::make_unique<Tokenizer>(vocab && *vocab ? Tokenizer::from_vocab_file(vocab)
                                                            : Tokenizer::from_vocab(builtin_vocab()));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cbir::fuzz::Reader in(data, size);
  // First byte: context length 2..65; the rest is split into up to 3 texts at 0xff bytes.
  const size_t context_length = 2 + in.u8() % 64;
  const std::string all = in.rest();
  std::vector<std::string_view> texts;
  size_t start = 0;
  while (texts.size() < 3) {
    size_t end = all.find('\xff', start);
    if (end == std::string::npos || texts.size() == 2) end = all.size();
    texts.emplace_back(all.data() + start, end - start);
    if (end == all.size()) break;
    start = end + 1;
  }
  std::vector<int64_t> ids(texts.size() * context_length, -7);
  std::vector<int32_t> lengths(texts.size(), -7);
  try {
    g_tokenizer->encode(texts, static_cast<int>(context_length), ids.data(), lengths.data());
  } catch (const cbir::Error&) {
    return 0;
  }
  const auto vocab = static_cast<int64_t>(g_tokenizer->vocab_size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const int32_t len = lengths[i];
    const int64_t* row = &ids[i * context_length];
    if (len < 2 || size_t(len) > context_length || row[0] != g_tokenizer->cls_id() ||
        row[len - 1] != g_tokenizer->sep_id())
      __builtin_trap();
    for (size_t j = 0; j < context_length; ++j) {
      if (row[j] < 0 || row[j] >= vocab) __builtin_trap();
      if (j >= size_t(len) && row[j] != g_tokenizer->pad_id()) __builtin_trap();
    }
  }
  for (int32_t id : g_tokenizer->wordpiece_ids(texts[0]))
    if (id < 0 || id >= vocab) __builtin_trap();
  return 0;
}
