// Filter expressions (docs/filters.md): `width >= 1000 and path like '%/beach/%'` compiled to
// a condition over the catalog's items, as SQL with every value a bound parameter. The SQL
// text is made only of the fixed column names, operators and placeholders below, never of the
// user's text; whatever the expression, it selects ids and cannot change anything.
#pragma once

#include <string>
#include <string_view>

#include "store/collection.hpp"

namespace cbir::query {

// Limits, so that no expression costs more than a few milliseconds to refuse or compile.
constexpr size_t kMaxFilterBytes = 64 * 1024;
constexpr int kMaxFilterDepth = 64;      // nested parentheses and "not"s
constexpr size_t kMaxFilterValues = 10000;  // values in all, "in (...)" lists included

// Compiles `expr` (UTF-8) to a condition on the items table. Throws cbir::Error:
// CBIR_EINVAL for a malformed expression, with its position ("at position N", 1-based, in
// bytes) and what was expected; CBIR_EUNSUPPORTED for a field this version does not store yet
// (naming it). An empty or all-blank expression is CBIR_EINVAL too (no filter: pass none).
store::SqlCondition compile_filter(std::string_view expr);

}  // namespace cbir::query
