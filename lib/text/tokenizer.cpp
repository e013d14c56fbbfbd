#include "text/tokenizer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "common/error.hpp"
#include "text/bert_chars.hpp"
#include "text/utf8.hpp"

namespace cbir::text {
namespace {

// A vocab.txt is about 100 KiB; anything this big is the wrong file (a weights file, say).
constexpr uintmax_t kMaxVocabBytes = 64u << 20;

std::string read_vocab_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found)
    fail(CBIR_ENOTFOUND, "vocab file '" + path + "' does not exist");
  if (st.type() == fs::file_type::directory)
    fail(CBIR_EINVAL, "'" + path + "' is a folder: give the vocab.txt inside it");
  uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxVocabBytes)
    fail(CBIR_ECORRUPT, "vocab file '" + path + "' is " + std::to_string(size) +
                            " bytes, too large for a vocab.txt (one token per line): is it the "
                            "right file?");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(CBIR_EIO, "cannot open vocab file '" + path + "': " + std::strerror(errno));
  std::string bytes;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    bytes.append(buf, static_cast<size_t>(in.gcount()));
    if (bytes.size() > kMaxVocabBytes)
      fail(CBIR_ECORRUPT, "vocab file '" + path + "' is too large for a vocab.txt");
  }
  if (in.bad()) fail(CBIR_EIO, "cannot read vocab file '" + path + "': " + std::strerror(errno));
  return bytes;
}

// Python's readline() in text mode ends a line at \n, \r\n or \r.
std::vector<std::string> split_lines(const std::string& bytes) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != '\n' && bytes[i] != '\r') continue;
    lines.emplace_back(bytes, start, i - start);
    if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < bytes.size()) lines.emplace_back(bytes, start, std::string::npos);
  return lines;
}

// Python's str.strip() of a valid UTF-8 line.
std::string strip_python_space(const std::string& line) {
  std::vector<char32_t> cps;
  Utf8Problem ignored;
  decode_utf8(line, cps, ignored);
  size_t b = 0, e = cps.size();
  while (b < e && is_python_space(cps[b])) ++b;
  while (e > b && is_python_space(cps[e - 1])) --e;
  if (b == 0 && e == cps.size()) return line;
  std::string out;
  for (size_t i = b; i < e; ++i) append_utf8(cps[i], out);
  return out;
}

std::string invalid_utf8_message(const Utf8Problem& p) {
  return "invalid UTF-8 at byte " + std::to_string(p.offset) + " (" + p.reason +
         "): text must be UTF-8 encoded";
}

}  // namespace

// Buffers reused from call to call on a thread, so that tokenizing a query allocates nothing.
struct Tokenizer::Scratch {
  std::vector<char32_t> token;  // the current whitespace-delimited token
  std::vector<char32_t> norm;   // that token lower-cased, without accents
  std::string word;             // one word in UTF-8
  std::vector<int32_t> pieces;  // one text's pieces (encode)

  static Scratch& of_this_thread() {
    thread_local Scratch scratch;
    // Memory an enormous text made them take (megabytes without a space) is given back.
    constexpr size_t kKeep = 1 << 16;
    if (scratch.token.capacity() > kKeep || scratch.norm.capacity() > kKeep ||
        scratch.pieces.capacity() > kKeep)
      scratch = Scratch();
    return scratch;
  }
};

Tokenizer Tokenizer::from_vocab_file(const std::string& path, bool lower_case) {
  std::string bytes = read_vocab_bytes(path);
  Utf8Problem p;
  if (!check_utf8(bytes, p)) {
    size_t line = 1 + static_cast<size_t>(
                          std::count(bytes.begin(), bytes.begin() + static_cast<long>(p.offset),
                                     '\n'));
    fail(CBIR_ECORRUPT, "vocab file '" + path + "' line " + std::to_string(line) +
                            ": invalid UTF-8 at byte " + std::to_string(p.offset) + " (" +
                            p.reason + "); a vocab.txt is UTF-8 text");
  }
  std::vector<std::string> tokens = split_lines(bytes);
  for (std::string& t : tokens) t = strip_python_space(t);
  return build(std::move(tokens), lower_case, "vocab file '" + path + "'", CBIR_ECORRUPT);
}

Tokenizer Tokenizer::from_vocab(std::vector<std::string> tokens, bool lower_case) {
  return build(std::move(tokens), lower_case, "the vocab", CBIR_EINVAL);
}

Tokenizer Tokenizer::build(std::vector<std::string> tokens, bool lower_case,
                           const std::string& source, int error_code) {
  if (tokens.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    fail(error_code, source + " has too many tokens");
  Tokenizer t;
  t.lower_case_ = lower_case;
  for (size_t i = 0; i < tokens.size(); ++i) {
    Utf8Problem p;
    if (!check_utf8(tokens[i], p))
      fail(error_code, source + ": token " + std::to_string(i) + ": " + invalid_utf8_message(p));
    if (!tokens[i].empty()) t.trie_.insert(tokens[i], static_cast<int32_t>(i));
  }
  t.tokens_ = std::move(tokens);
  t.continuation_ = t.trie_.walk(VocabTrie::kRoot, "##");
  for (auto [name, id] : {std::pair{"[CLS]", &t.cls_}, std::pair{"[SEP]", &t.sep_},
                          std::pair{"[PAD]", &t.pad_}, std::pair{"[UNK]", &t.unk_}}) {
    *id = t.id_of(name);
    if (*id < 0)
      fail(error_code, source + " has no " + name + " token (" + std::to_string(t.vocab_size()) +
                           " tokens): it is not a BERT vocab.txt");
  }
  return t;
}

std::vector<int32_t> Tokenizer::wordpiece_ids(std::string_view text) const {
  Scratch& scratch = Scratch::of_this_thread();
  std::vector<int32_t> out;
  append_pieces(text, std::numeric_limits<size_t>::max(), out, scratch, -1);
  return out;
}

void Tokenizer::encode(const std::vector<std::string_view>& texts, int context_length,
                       int64_t* ids, int32_t* lengths) const {
  if (context_length < 2)
    fail(CBIR_EINVAL, "context_length must be at least 2 (room for [CLS] and [SEP]), not " +
                          std::to_string(context_length));
  if (texts.empty()) return;
  require(ids != nullptr, "ids must not be NULL");
  const size_t width = static_cast<size_t>(context_length);
  Scratch& scratch = Scratch::of_this_thread();
  std::vector<int32_t>& pieces = scratch.pieces;
  for (size_t i = 0; i < texts.size(); ++i) {
    pieces.clear();
    append_pieces(texts[i], width - 2, pieces, scratch, static_cast<long>(i));
    const size_t n = std::min(pieces.size(), width - 2);
    int64_t* row = ids + i * width;
    row[0] = cls_;
    std::copy_n(pieces.begin(), n, row + 1);
    row[n + 1] = sep_;
    std::fill(row + n + 2, row + width, pad_);
    if (lengths) lengths[i] = static_cast<int32_t>(n + 2);
  }
}

const std::string& Tokenizer::token(int64_t id) const {
  if (id < 0 || static_cast<uint64_t>(id) >= tokens_.size())
    fail(CBIR_EINVAL, "token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                          std::to_string(tokens_.size()) + ")");
  return tokens_[static_cast<size_t>(id)];
}

int64_t Tokenizer::id_of(std::string_view token) const { return trie_.find(token); }

void Tokenizer::append_pieces(std::string_view text, size_t limit, std::vector<int32_t>& out,
                              Scratch& s, long index) const {
  // The whole text is checked, even where the pieces stop early.
  Utf8Problem p;
  if (!check_utf8(text, p))
    fail(CBIR_EINVAL, (index < 0 ? "" : "text " + std::to_string(index) + ": ") +
                          invalid_utf8_message(p));
  s.token.clear();
  auto flush = [&] {
    if (!s.token.empty()) add_token(s.token.data(), s.token.data() + s.token.size(), out, s);
    s.token.clear();
  };
  const auto* c = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = c + text.size();
  while (c < end) {
    if (out.size() >= limit) return;  // the rest would be truncated anyway
    char32_t cp = next_code_point(c);
    switch (classify(cp)) {
      case CharKind::kDropped:
        break;
      case CharKind::kWord:
        s.token.push_back(cp);
        break;
      case CharKind::kSpace:
        flush();
        break;
      case CharKind::kCjk:
        flush();
        add_token(&cp, &cp + 1, out, s);
        break;
    }
  }
  flush();
}

void Tokenizer::add_token(const char32_t* begin, const char32_t* end, std::vector<int32_t>& out,
                          Scratch& s) const {
  if (lower_case_) {
    s.norm.clear();
    lower_and_strip_accents(begin, static_cast<size_t>(end - begin), s.norm);
    begin = s.norm.data();
    end = begin + s.norm.size();
  }
  // Every punctuation character is a word of its own.
  const char32_t* word = begin;
  for (const char32_t* c = begin; c != end; ++c) {
    if (!is_punctuation(*c)) continue;
    if (word != c) add_word(word, c, out, s);
    add_word(c, c + 1, out, s);
    word = c + 1;
  }
  if (word != end) add_word(word, end, out, s);
}

void Tokenizer::add_word(const char32_t* begin, const char32_t* end, std::vector<int32_t>& out,
                         Scratch& s) const {
  if (static_cast<size_t>(end - begin) > kMaxCharsPerWord) {
    out.push_back(static_cast<int32_t>(unk_));
    return;
  }
  s.word.clear();
  for (const char32_t* c = begin; c != end; ++c) append_utf8(*c, s.word);
  // Greedy longest match, in bytes: a vocab entry is valid UTF-8, so a match always ends on a
  // character boundary, as Python's match on characters does.
  const size_t first = out.size();
  const size_t n = s.word.size();
  size_t pos = 0;
  while (pos < n) {
    int32_t node = pos == 0 ? VocabTrie::kRoot : continuation_;
    int32_t best = -1;
    size_t best_end = pos;
    for (size_t i = pos; i < n && node >= 0; ++i) {
      VocabTrie::Step step = trie_.child(node, static_cast<unsigned char>(s.word[i]));
      node = step.node;
      if (step.id >= 0) {
        best = step.id;
        best_end = i + 1;
      }
    }
    if (best < 0) {  // one unmatchable piece makes the whole word [UNK]
      out.resize(first);
      out.push_back(static_cast<int32_t>(unk_));
      return;
    }
    out.push_back(best);
    pos = best_end;
  }
}

}  // namespace cbir::text
