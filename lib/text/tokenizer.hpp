// A BERT WordPiece tokenizer identical to Chinese-CLIP's (FullTokenizer, do_lower_case=True).
// Contract shared with lib/model and lib/c_api; lib/text/ implements it.
//
// The steps, in Chinese-CLIP's order: drop NUL, U+FFFD and control/format characters; turn
// whitespace into separators; make every CJK ideograph a token of its own; split on whitespace;
// per token lower-case, NFD and drop Mn (accents), then split off each punctuation character;
// then WordPiece each word (greedy longest match, "##" continuations, [UNK] for a word that
// cannot be matched or is longer than kMaxCharsPerWord characters).
//
// A Tokenizer is immutable once built: every const member may be called from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/vocab_trie.hpp"

namespace cbir::text {

class Tokenizer {
 public:
  // Longer words become [UNK] (Chinese-CLIP's WordpieceTokenizer: max_input_chars_per_word).
  static constexpr size_t kMaxCharsPerWord = 200;

  // Reads a vocab.txt (one token per line, id = line number) as Chinese-CLIP does: lines end at
  // \n, \r\n or \r and are stripped of whitespace; a token listed twice keeps its last id.
  // Throws cbir::Error (CBIR_ENOTFOUND, CBIR_EIO, CBIR_EINVAL for a folder, CBIR_ECORRUPT when
  // the file is not UTF-8, too large, or [CLS]/[SEP]/[PAD]/[UNK] are missing).
  static Tokenizer from_vocab_file(const std::string& path, bool lower_case = true);
  // The same from tokens taken verbatim (CBIR_EINVAL where from_vocab_file says CORRUPT).
  static Tokenizer from_vocab(std::vector<std::string> tokens, bool lower_case = true);

  // Word-piece ids of one text, without [CLS]/[SEP]. Throws CBIR_EINVAL naming the byte offset
  // of the first invalid UTF-8 sequence.
  std::vector<int32_t> wordpiece_ids(std::string_view text) const;

  // Chinese-CLIP's tokenize(texts, context_length): [CLS] pieces[:L-2] [SEP], padded with [PAD].
  // ids: n * context_length, row-major. lengths (may be null): real length of each row.
  // context_length must be at least 2. Throws CBIR_EINVAL naming the text (its index) and byte
  // offset of invalid UTF-8; ids and lengths are then unspecified.
  void encode(const std::vector<std::string_view>& texts, int context_length, int64_t* ids,
              int32_t* lengths) const;

  const std::string& token(int64_t id) const;  // throws CBIR_EINVAL when out of range
  int64_t id_of(std::string_view token) const;   // -1 when the vocab lacks it
  size_t vocab_size() const { return tokens_.size(); }
  int64_t cls_id() const { return cls_; }
  int64_t sep_id() const { return sep_; }
  int64_t pad_id() const { return pad_; }
  int64_t unk_id() const { return unk_; }
  bool lower_case() const { return lower_case_; }

 private:
  struct Scratch;
  static Tokenizer build(std::vector<std::string> tokens, bool lower_case,
                         const std::string& source, int error_code);
  // Appends the pieces of `text` to `out`, stopping early once `out` holds `limit` ids.
  // `index` (or -1) names the text in error messages.
  void append_pieces(std::string_view text, size_t limit, std::vector<int32_t>& out,
                     Scratch& scratch, long index) const;
  void add_token(const char32_t* begin, const char32_t* end, std::vector<int32_t>& out,
                 Scratch& scratch) const;
  void add_word(const char32_t* begin, const char32_t* end, std::vector<int32_t>& out,
                Scratch& scratch) const;

  std::vector<std::string> tokens_;
  VocabTrie trie_;
  int32_t continuation_ = -1;  // the trie node of "##", where continuation pieces start
  bool lower_case_ = true;
  int64_t cls_ = -1, sep_ = -1, pad_ = -1, unk_ = -1;
};

}  // namespace cbir::text
