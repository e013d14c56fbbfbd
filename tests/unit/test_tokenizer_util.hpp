// Helpers shared by the tokenizer tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "text/tokenizer.hpp"

namespace tok_test {

// The word pieces of `text`, as strings.
inline std::vector<std::string> pieces(const cbir::text::Tokenizer& tok, const std::string& text) {
  std::vector<std::string> out;
  for (int32_t id : tok.wordpiece_ids(text)) out.push_back(tok.token(id));
  return out;
}

// Runs `f`; returns the code and message of the cbir::Error it throws, or {CBIR_OK, ""}.
template <class F>
std::pair<int, std::string> error_of(F&& f) {
  try {
    f();
  } catch (const cbir::Error& e) {
    return {e.code(), e.what()};
  }
  return {CBIR_OK, ""};
}

}  // namespace tok_test
