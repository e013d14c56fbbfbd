// Parity with Chinese-CLIP: every line of golden/tokenizer.jsonl, made with Chinese-CLIP's own
// tokenize(texts, context_length=52) and its vocab, must come out the same: pieces and ids.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "golden.hpp"
#include "test_tokenizer_util.hpp"

using cbir::text::Tokenizer;

TEST_CASE("golden: every line of tokenizer.jsonl matches Chinese-CLIP") {
  CBIR_REQUIRE_GOLDEN(dir);
  const Tokenizer tok = Tokenizer::from_vocab_file(dir + "/vocab.txt");
  CHECK(tok.vocab_size() == 21128);

  std::ifstream in(dir + "/tokenizer.jsonl");
  REQUIRE(in);
  std::vector<std::string> texts;
  std::vector<std::vector<int64_t>> golden_ids;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json g = nlohmann::json::parse(line);
    const std::string text = g.at("text");
    INFO("text: " << text);
    CHECK(tok_test::pieces(tok, text) == g.at("tokens").get<std::vector<std::string>>());
    texts.push_back(text);
    golden_ids.push_back(g.at("ids").get<std::vector<int64_t>>());
  }
  REQUIRE(texts.size() >= 40);

  // All of them in one batch, as a model would encode them.
  const int L = 52;
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<int64_t> ids(texts.size() * L);
  std::vector<int32_t> lengths(texts.size());
  tok.encode(views, L, ids.data(), lengths.data());
  for (size_t i = 0; i < texts.size(); ++i) {
    INFO("text: " << texts[i]);
    const std::vector<int64_t> row(ids.begin() + i * L, ids.begin() + (i + 1) * L);
    CHECK(row == golden_ids[i]);
    // The real length is where Chinese-CLIP's zero padding starts.
    size_t real = golden_ids[i].size();
    while (real > 0 && golden_ids[i][real - 1] == 0) --real;
    CHECK(lengths[i] == static_cast<int32_t>(real));
  }
}
