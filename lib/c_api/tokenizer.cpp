// The tokenizer handle: cbir_tokenizer_* and cbir_tokenize.
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "c_api/guard.hpp"
#include "c_api/tokenizer_handle.hpp"

namespace {

// A folder (a model bundle) stands for the vocab.txt inside it.
std::string vocab_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return path;
  std::string file = (std::filesystem::path(path) / "vocab.txt").string();
  if (!std::filesystem::exists(file, ec))
    cbir::fail(CBIR_ENOTFOUND, "folder '" + path + "' holds no vocab.txt");
  return file;
}

}  // namespace

extern "C" {

void cbir_tokenizer_options_init(cbir_tokenizer_options_t* opts) {
  if (opts) *opts = CBIR_TOKENIZER_OPTIONS_INIT;
}

int cbir_tokenizer_open(cbir_tokenizer_t** out, const char* vocab_path,
                        const cbir_tokenizer_options_t* opts) {
  return cbir::capi::guard([&] {
    cbir::capi::need(out, "out");
    *out = nullptr;
    cbir::capi::need(vocab_path, "vocab_path");
    const cbir_tokenizer_options_t o = cbir::capi::options_or_default(
        opts, cbir_tokenizer_options_t CBIR_TOKENIZER_OPTIONS_INIT, "cbir_tokenizer_options_t");
    cbir::require(o.lower_case == 0 || o.lower_case == 1,
                  "cbir_tokenizer_options_t.lower_case must be 0 or 1");
    auto handle = std::make_unique<cbir_tokenizer_t>();
    handle->owned = std::make_unique<const cbir::text::Tokenizer>(
        cbir::text::Tokenizer::from_vocab_file(vocab_file(vocab_path), o.lower_case == 1));
    handle->tokenizer = handle->owned.get();
    *out = handle.release();
  });
}

void cbir_tokenizer_close(cbir_tokenizer_t* tokenizer) { delete tokenizer; }

int cbir_tokenize(int64_t* ids, int32_t* lengths, const cbir_tokenizer_t* tokenizer,
                  const char* const* texts, size_t n, size_t context_length) {
  return cbir::capi::guard([&] {
    cbir::capi::need(tokenizer, "tokenizer");
    const size_t max_ids = std::numeric_limits<size_t>::max() / sizeof(int64_t);
    if (context_length > size_t(std::numeric_limits<int>::max()) ||
        (context_length > 0 && n > max_ids / context_length))
      cbir::fail(CBIR_EINVAL, "context_length " + std::to_string(context_length) +
                                  " is too large: n * context_length ids do not fit in memory");
    if (n > 0) {
      cbir::capi::need(ids, "ids");
      cbir::capi::need(texts, "texts");
    }
    std::vector<std::string_view> views(n);
    for (size_t i = 0; i < n; ++i) {
      if (texts[i] == nullptr) cbir::fail(CBIR_EINVAL, "texts[" + std::to_string(i) + "] is NULL");
      views[i] = texts[i];
    }
    tokenizer->tokenizer->encode(views, static_cast<int>(context_length), ids, lengths);
  });
}

size_t cbir_tokenizer_vocab_size(const cbir_tokenizer_t* tokenizer) {
  return tokenizer ? tokenizer->tokenizer->vocab_size() : 0;
}

const char* cbir_tokenizer_token(const cbir_tokenizer_t* tokenizer, int64_t id) {
  if (!tokenizer || id < 0 || static_cast<uint64_t>(id) >= tokenizer->tokenizer->vocab_size())
    return nullptr;
  return tokenizer->tokenizer->token(id).c_str();
}

}  // extern "C"
