// What a cbir_tokenizer_t is: a tokenizer it owns (cbir_tokenizer_open), or one it borrows
// from an object that outlives it (a model handing out its own).
#pragma once

#include <memory>

#include "cbir.h"
#include "text/tokenizer.hpp"

struct cbir_tokenizer_t {
  std::unique_ptr<const cbir::text::Tokenizer> owned;
  const cbir::text::Tokenizer* tokenizer = nullptr;  // owned.get(), or the borrowed one
};
