// The filter language's parser and its translation to SQL, in one recursive descent: the
// grammar is docs/filters.md's, each rule a function, each value a `?` parameter.
#include "query/filter.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "common/error.hpp"
#include "text/utf8.hpp"

namespace cbir::query {
namespace {

enum class Type { integer, real, text, time };

struct Field {
  const char* name;
  const char* column;  // nullptr: a field of the language this version does not store yet
  Type type;
};

// Built-in fields. Those with a column are the catalog's own; the rest come with metadata
// capture (issue 19) and are refused by name until then.
constexpr Field kFields[] = {
    {"width", "width", Type::integer}, {"height", "height", Type::integer},
    {"size", "size", Type::integer},   {"mtime", "mtime", Type::time},
    {"path", "uri", Type::text},       {"taken", nullptr, Type::time},
    {"format", nullptr, Type::text},   {"make", nullptr, Type::text},
    {"model", nullptr, Type::text},    {"lat", nullptr, Type::real},
    {"lon", nullptr, Type::real}};

const char* type_name(Type t) {
  switch (t) {
    case Type::integer: return "an integer";
    case Type::real: return "a number";
    case Type::text: return "a string";
    case Type::time: return "a time (seconds since 1970, or 'YYYY-MM-DD[THH:MM[:SS]]' in UTC)";
  }
  return "a value";
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Days from 1970-01-01 to a civil date (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// 'YYYY-MM-DD', optionally 'THH:MM' or 'THH:MM:SS' (or a space for the T), UTC: seconds.
bool parse_time(std::string_view s, int64_t& out) {
  auto digits = [&](size_t at, size_t n, int& v) {
    if (at + n > s.size()) return false;
    v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (!digits(0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
      !digits(8, 2, d))
    return false;
  size_t end = 10;
  if (s.size() > 10) {
    if ((s[10] != 'T' && s[10] != ' ') || !digits(11, 2, h) || s.size() < 16 || s[13] != ':' ||
        !digits(14, 2, mi))
      return false;
    end = 16;
    if (s.size() > 16) {
      if (s[16] != ':' || !digits(17, 2, se)) return false;
      end = 19;
    }
  }
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (end != s.size() || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 ||
      se > 59)
    return false;
  out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
  return true;
}

enum class Tok { end, ident, number, string, lparen, rparen, comma, op };

struct Token {
  Tok kind = Tok::end;
  std::string_view text;  // as written (a string: without its quotes, escapes not undone)
  size_t pos = 0;         // 0-based byte offset
  std::string value;      // a string's value, quotes undone
};

class Compiler {
 public:
  explicit Compiler(std::string_view src) : src_(src) { next(); }

  store::SqlCondition run() {
    if (tok_.kind == Tok::end) error(0, "the filter is empty");
    disjunction(0);
    if (tok_.kind != Tok::end) error(tok_.pos, "expected 'and', 'or' or the end of the filter");
    return std::move(out_);
  }

 private:
  [[noreturn]] void error(size_t pos, const std::string& what) const {
    fail(CBIR_EINVAL, "filter: " + what + " at position " + std::to_string(pos + 1) +
                          " (docs/filters.md has the grammar)");
  }

  // ------------------------------------------------------------------------------- lexer
  void next() {
    size_t i = at_;
    while (i < src_.size() && std::isspace(static_cast<unsigned char>(src_[i]))) ++i;
    tok_ = Token{};
    tok_.pos = i;
    if (i >= src_.size()) {
      at_ = i;
      return;
    }
    const char c = src_[i];
    auto take = [&](Tok kind, size_t n) {
      tok_.kind = kind;
      tok_.text = src_.substr(i, n);
      at_ = i + n;
    };
    if (c == '(') return take(Tok::lparen, 1);
    if (c == ')') return take(Tok::rparen, 1);
    if (c == ',') return take(Tok::comma, 1);
    if (c == '=') return take(Tok::op, 1);
    if (c == '!' || c == '<' || c == '>') {
      const bool two = i + 1 < src_.size() && src_[i + 1] == '=';
      if (c == '!' && !two) error(i, "'!' must be followed by '=' ('!=')");
      return take(Tok::op, two ? 2 : 1);
    }
    if (c == '\'' || c == '"') {  // a string; the quote doubled stands for itself
      std::string value;
      size_t j = i + 1;
      for (;; ++j) {
        if (j >= src_.size()) error(i, "a string that is never closed");
        if (src_[j] == c) {
          if (j + 1 < src_.size() && src_[j + 1] == c) {
            value += c;
            ++j;
            continue;
          }
          break;
        }
        value += src_[j];
      }
      take(Tok::string, j + 1 - i);
      tok_.value = std::move(value);
      return;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      size_t j = i + 1;
      while (j < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[j])) ||
                                 src_[j] == '.' ||
                                 ((src_[j] == '-' || src_[j] == '+') &&
                                  (src_[j - 1] == 'e' || src_[j - 1] == 'E'))))
        ++j;
      return take(Tok::number, j - i);
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i + 1;
      while (j < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[j])) ||
                                 src_[j] == '_' || src_[j] == '.' || src_[j] == '-'))
        ++j;
      return take(Tok::ident, j - i);
    }
    error(i, std::string("unexpected character '") + c + "'");
  }

  bool keyword(const char* k) const { return tok_.kind == Tok::ident && ieq(tok_.text, k); }
  void expect(Tok kind, const char* what) {
    if (tok_.kind != kind) error(tok_.pos, std::string("expected ") + what);
    next();
  }

  // ------------------------------------------------------------------------------ grammar
  void deeper(int depth) const {
    if (depth > kMaxFilterDepth)
      error(tok_.pos, "the filter nests more than " + std::to_string(kMaxFilterDepth) + " deep");
  }

  // disjunction := conjunction ("or" conjunction)*
  void disjunction(int depth) {
    deeper(depth);
    out_.sql += "(";
    conjunction(depth);
    while (keyword("or")) {
      next();
      out_.sql += " OR ";
      conjunction(depth);
    }
    out_.sql += ")";
  }

  // conjunction := negation ("and" negation)*
  void conjunction(int depth) {
    negation(depth);
    while (keyword("and")) {
      next();
      out_.sql += " AND ";
      negation(depth);
    }
  }

  // negation := "not" negation | "(" disjunction ")" | near | condition
  void negation(int depth) {
    deeper(depth);
    if (keyword("not")) {
      next();
      out_.sql += "NOT ";
      negation(depth + 1);
      return;
    }
    if (tok_.kind == Tok::lparen) {
      next();
      disjunction(depth + 1);
      expect(Tok::rparen, "')'");
      return;
    }
    if (keyword("near")) {
      fail(CBIR_EUNSUPPORTED, "filter: near(lat, lon, km) at position " + std::to_string(tok_.pos + 1) +
                                  " needs GPS positions, which this version does not store yet");
    }
    condition();
  }

  const Field& field() {
    if (tok_.kind != Tok::ident) error(tok_.pos, "expected a field name (width, path, ...)");
    const std::string name(tok_.text);
    if (name.size() > 5 && ieq(std::string_view(name).substr(0, 5), "attr."))
      fail(CBIR_EUNSUPPORTED, "filter: '" + name + "' at position " + std::to_string(tok_.pos + 1) +
                                  ": user attributes are not stored by this version yet");
    for (const Field& f : kFields)
      if (ieq(name, f.name)) {
        if (!f.column)
          fail(CBIR_EUNSUPPORTED, "filter: the field '" + std::string(f.name) + "' at position " +
                                      std::to_string(tok_.pos + 1) +
                                      " is not stored by this version yet (stored: width, height, "
                                      "size, mtime, path)");
        next();
        return f;
      }
    error(tok_.pos, "unknown field '" + name +
                        "' (fields: width, height, size, mtime, path, taken, format, make, model, "
                        "lat, lon, attr.NAME)");
  }

  // A literal of the field's type, bound as a parameter.
  void value(const Field& f) {
    if (out_.params.size() >= kMaxFilterValues)
      error(tok_.pos, "the filter holds more than " + std::to_string(kMaxFilterValues) + " values");
    const size_t pos = tok_.pos;
    if (f.type == Type::text) {
      if (tok_.kind != Tok::string) error(pos, std::string("expected ") + type_name(f.type) + " for '" + f.name + "' (quote it)");
      out_.params.emplace_back(tok_.value);
      next();
      out_.sql += "?";
      return;
    }
    if (f.type == Type::time && tok_.kind == Tok::string) {
      int64_t t = 0;
      if (!parse_time(tok_.value, t)) error(pos, std::string("expected ") + type_name(f.type));
      out_.params.emplace_back(t);
      next();
      out_.sql += "?";
      return;
    }
    if (tok_.kind != Tok::number) error(pos, std::string("expected ") + type_name(f.type) + " for '" + f.name + "'");
    const std::string text(tok_.text);
    char* end = nullptr;
    errno = 0;
    if (f.type == Type::real) {
      const double v = std::strtod(text.c_str(), &end);
      if (*end != '\0' || errno == ERANGE || !std::isfinite(v)) error(pos, "'" + text + "' is not a number");
      out_.params.emplace_back(v);
    } else {
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (*end != '\0' || errno == ERANGE)
        error(pos, "'" + text + "' is not " + type_name(f.type) + " (a whole number in 64 bits)");
      out_.params.emplace_back(static_cast<int64_t>(v));
    }
    next();
    out_.sql += "?";
  }

  // condition := field op value | field ["not"] "in" "(" value ("," value)* ")"
  //            | field ["not"] "between" value "and" value | field ["not"] "like" string
  void condition() {
    const Field& f = field();
    const std::string column = f.column;
    bool negated = false;
    if (keyword("not")) {
      negated = true;
      next();
      if (!keyword("in") && !keyword("between") && !keyword("like"))
        error(tok_.pos, "expected 'in', 'between' or 'like' after 'not'");
    }
    if (tok_.kind == Tok::op && !negated) {
      const std::string op(tok_.text);
      next();
      out_.sql += column + " " + op + " ";
      value(f);
      return;
    }
    if (keyword("in")) {
      next();
      expect(Tok::lparen, "'(' after 'in'");
      out_.sql += column + (negated ? " NOT IN (" : " IN (");
      value(f);
      while (tok_.kind == Tok::comma) {
        next();
        out_.sql += ", ";
        value(f);
      }
      expect(Tok::rparen, "',' or ')' in the 'in' list");
      out_.sql += ")";
      return;
    }
    if (keyword("between")) {
      next();
      out_.sql += column + (negated ? " NOT BETWEEN " : " BETWEEN ");
      value(f);
      if (!keyword("and")) error(tok_.pos, "expected 'and' in 'between ... and ...'");
      next();
      out_.sql += " AND ";
      value(f);
      return;
    }
    if (keyword("like")) {
      if (f.type != Type::text) error(tok_.pos, std::string("'like' compares strings; '") + f.name + "' is not one");
      next();
      out_.sql += column + (negated ? " NOT LIKE " : " LIKE ");
      value(f);
      out_.sql += " ESCAPE '\\'";
      return;
    }
    error(tok_.pos, "expected a comparison (=, !=, <, <=, >, >=, in, between, like)");
  }

  std::string_view src_;
  size_t at_ = 0;
  Token tok_;
  store::SqlCondition out_;
};

}  // namespace

store::SqlCondition compile_filter(std::string_view expr) {
  if (expr.size() > kMaxFilterBytes)
    fail(CBIR_EINVAL, "filter: the expression is " + std::to_string(expr.size()) +
                          " bytes, more than the " + std::to_string(kMaxFilterBytes) +
                          " allowed, at position " + std::to_string(kMaxFilterBytes + 1));
  text::Utf8Problem problem;
  if (!text::check_utf8(expr, problem))
    fail(CBIR_EINVAL, std::string("filter: not valid UTF-8 (") + problem.reason + ") at position " +
                          std::to_string(problem.offset + 1));
  return Compiler(expr).run();
}

}  // namespace cbir::query
