// cbir tokenize: what a text query becomes, word piece by word piece.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.hpp"

namespace cli {

namespace {

struct TokenizerHandle {
  cbir_tokenizer_t* handle = nullptr;
  ~TokenizerHandle() { cbir_tokenizer_close(handle); }
};

// The ids of one text: [CLS] pieces [SEP], padded to context_length; returns the real length.
int32_t tokenize(std::vector<int64_t>& ids, const cbir_tokenizer_t* tok, const char* text,
                 size_t context_length) {
  ids.assign(context_length, 0);
  int32_t length = 0;
  check(cbir_tokenize(ids.data(), &length, tok, &text, 1, context_length));
  return length;
}

}  // namespace

const char* const kTokenizeUsage =
    "usage: cbir tokenize --vocab PATH [--context-length N] [--] TEXT...\n"
    "\n"
    "Tokenizes each TEXT as Chinese-CLIP's text tower sees it and prints one JSON line per text:\n"
    "  {\"text\": TEXT, \"tokens\": [word pieces], \"ids\": [ids]}\n"
    "tokens lists every word piece of the text; ids holds [CLS], the ids of the first N - 2\n"
    "pieces, [SEP], then [PAD] up to N ids.\n"
    "\n"
    "options:\n"
    "  --vocab PATH          a BERT vocab.txt, or a model bundle folder that holds one\n"
    "  --context-length N    ids per text, [CLS] and [SEP] included (default 52, as\n"
    "                        Chinese-CLIP; 2..65536)\n"
    "\n"
    "Put -- before texts that begin with '-'.\n";

int cmd_tokenize(int argc, char** argv) {
  Args args(argc, argv, {"--vocab", "--context-length"}, {});
  if (!args.has("--vocab")) throw UsageError("--vocab is required");
  if (args.positional().empty()) throw UsageError("give at least one TEXT");
  const auto context_length = static_cast<size_t>(args.get_int("--context-length", 52, 2, 65536));

  TokenizerHandle tok;
  const std::string vocab = args.get("--vocab");
  check(cbir_tokenizer_open(&tok.handle, vocab.c_str(), nullptr), vocab);

  std::vector<int64_t> ids, all;
  for (const std::string& text : args.positional()) {
    tokenize(ids, tok.handle, text.c_str(), context_length);
    // Every piece: a text of B bytes has at most B pieces, so B + 2 ids never truncate.
    const int32_t all_length = tokenize(all, tok.handle, text.c_str(), text.size() + 2);
    std::string line = "{\"text\": " + json_quote(text) + ", \"tokens\": [";
    for (int32_t i = 1; i + 1 < all_length; ++i) {
      if (i > 1) line += ", ";
      line += json_quote(cbir_tokenizer_token(tok.handle, all[static_cast<size_t>(i)]));
    }
    line += "], \"ids\": [";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) line += ", ";
      line += std::to_string(ids[i]);
    }
    line += "]}\n";
    std::fputs(line.c_str(), stdout);
  }
  return 0;
}

}  // namespace cli
