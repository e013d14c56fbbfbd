// A BERT WordPiece tokenizer identical to Chinese-CLIP's (FullTokenizer, do_lower_case=True).
// Contract shared with lib/model and lib/c_api; lib/text/ implements it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cbir::text {

class Tokenizer {
 public:
  // Reads a vocab.txt (one token per line, id = line number). Throws cbir::Error
  // (CBIR_ENOTFOUND, CBIR_EIO, CBIR_ECORRUPT when [CLS]/[SEP]/[PAD]/[UNK] are missing).
  static Tokenizer from_vocab_file(const std::string& path, bool lower_case = true);
  static Tokenizer from_vocab(std::vector<std::string> tokens, bool lower_case = true);

  // Word-piece ids of one text, without [CLS]/[SEP]. Throws CBIR_EINVAL naming the byte offset
  // of the first invalid UTF-8 sequence.
  std::vector<int32_t> wordpiece_ids(std::string_view text) const;

  // Chinese-CLIP's tokenize(texts, context_length): [CLS] pieces[:L-2] [SEP], padded with [PAD].
  // ids: n * context_length, row-major. lengths (may be null): real length of each row.
  void encode(const std::vector<std::string_view>& texts, int context_length, int64_t* ids,
              int32_t* lengths) const;

  const std::string& token(int64_t id) const;  // throws CBIR_EINVAL when out of range
  size_t vocab_size() const { return tokens_.size(); }
  int64_t cls_id() const { return cls_; }
  int64_t sep_id() const { return sep_; }
  int64_t pad_id() const { return pad_; }
  int64_t unk_id() const { return unk_; }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
  bool lower_case_ = true;
  int64_t cls_ = -1, sep_ = -1, pad_ = -1, unk_ = -1;
};

}  // namespace cbir::text
