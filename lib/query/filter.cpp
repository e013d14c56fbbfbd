// The filter language's parser and its translation to SQL, in one recursive descent: the
// grammar is docs/filters.md's, each rule a function, each value a `?` parameter.
#include "query/filter.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "common/civil_time.hpp"
#include "common/error.hpp"
#include "text/utf8.hpp"

namespace cbir::query {
namespace {

enum class Type { integer, real, text, time };

struct Field {
  const char* name;
  const char* column;
  Type type;
  bool nullable;          // an item may lack it: a condition on it is then false, not NULL
  int64_t scale = 1;      // stored = value * scale (mtime is kept in nanoseconds)
};

// Built-in fields: the catalog's columns (store/catalog.cpp).
constexpr Field kFields[] = {
    {"width", "width", Type::integer, false},      {"height", "height", Type::integer, false},
    {"size", "size", Type::integer, false},        {"mtime", "mtime", Type::time, false, 1000000000},
    {"path", "uri", Type::text, false},            {"taken", "taken", Type::time, true},
    {"format", "format", Type::text, true},        {"make", "make", Type::text, true},
    {"model", "model", Type::text, true},          {"lat", "lat", Type::real, true},
    {"lon", "lon", Type::real, true}};

// attr.NAME: a user attribute, whose type each item's value carries (store/catalog_attrs.cpp:
// 1 string, 2 integer, 3 real, 4 bool, 5 timestamp).
constexpr Field kAttr = {"attr", "value", Type::text, true};

const char* type_name(Type t) {
  switch (t) {
    case Type::integer: return "an integer";
    case Type::real: return "a number";
    case Type::text: return "a string";
    case Type::time: return "a time (seconds since 1970, or 'YYYY-MM-DD[THH:MM[:SS]]')";
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
    if (keyword("near")) return near();
    condition();
  }

  // near "(" number "," number "," number ")": within km kilometres of a latitude/longitude.
  void near() {
    next();
    expect(Tok::lparen, "'(' after 'near'");
    double v[3];
    static const char* kWhat[3] = {"a latitude (-90 to 90)", "a longitude (-180 to 180)",
                                   "a distance in km (> 0)"};
    for (int i = 0; i < 3; ++i) {
      if (i > 0) expect(Tok::comma, "',' between near()'s arguments");
      const size_t pos = tok_.pos;
      if (tok_.kind != Tok::number) error(pos, std::string("expected ") + kWhat[i]);
      const std::string text(tok_.text);
      char* end = nullptr;
      v[i] = std::strtod(text.c_str(), &end);
      const bool in_range = i == 0 ? std::fabs(v[i]) <= 90 : i == 1 ? std::fabs(v[i]) <= 180 : v[i] > 0;
      if (*end != '\0' || !std::isfinite(v[i]) || !in_range) error(pos, std::string("expected ") + kWhat[i]);
      next();
    }
    expect(Tok::rparen, "')' after near()'s three arguments");
    count_values(3);
    out_.sql += "coalesce(km_between(lat, lon, ?, ?) <= ?, 0)";
    for (double x : v) out_.params.emplace_back(x);
  }

  void count_values(size_t n) {
    if (out_.params.size() + n > kMaxFilterValues)
      error(tok_.pos, "the filter holds more than " + std::to_string(kMaxFilterValues) + " values");
  }

  // A built-in field, or kAttr with the attribute's name in attr_key_.
  const Field& field() {
    if (tok_.kind != Tok::ident) error(tok_.pos, "expected a field name (width, path, ...)");
    const std::string name(tok_.text);
    if (name.size() > 5 && ieq(std::string_view(name).substr(0, 5), "attr.")) {
      attr_key_ = name.substr(5);
      next();
      return kAttr;
    }
    for (const Field& f : kFields)
      if (ieq(name, f.name)) {
        next();
        return f;
      }
    error(tok_.pos, "unknown field '" + name +
                        "' (fields: width, height, size, mtime, path, taken, format, make, model, "
                        "lat, lon, attr.NAME)");
  }

  // A literal of the field's type, bound as a parameter.
  void value(const Field& f) {
    count_values(1);
    const size_t pos = tok_.pos;
    if (f.type == Type::text) {
      if (tok_.kind != Tok::string) error(pos, std::string("expected ") + type_name(f.type) + " for '" + f.name + "' (quote it)");
      out_.params.emplace_back(tok_.value);
      next();
      out_.sql += "?";
      return;
    }
    int64_t v = 0;
    if (f.type == Type::time && tok_.kind == Tok::string) {
      if (!parse_time(tok_.value, v)) error(pos, std::string("expected ") + type_name(f.type));
    } else if (tok_.kind != Tok::number) {
      error(pos, std::string("expected ") + type_name(f.type) + " for '" + f.name + "'");
    } else if (f.type == Type::real) {
      double r = 0;
      if (!parse_real(std::string(tok_.text), r)) error(pos, "'" + std::string(tok_.text) + "' is not a number");
      out_.params.emplace_back(r);
      next();
      out_.sql += "?";
      return;
    } else if (!parse_integer(std::string(tok_.text), v)) {
      error(pos, "'" + std::string(tok_.text) + "' is not " + type_name(f.type) + " (a whole number in 64 bits)");
    }
    if (__builtin_mul_overflow(v, f.scale, &v)) error(pos, std::string("the time is out of range for '") + f.name + "'");
    out_.params.emplace_back(v);
    next();
    out_.sql += "?";
  }

  static bool parse_integer(const std::string& text, int64_t& out) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE) return false;
    out = v;
    return true;
  }
  static bool parse_real(const std::string& text, double& out) {
    char* end = nullptr;
    errno = 0;
    out = std::strtod(text.c_str(), &end);
    return *end == '\0' && errno != ERANGE && std::isfinite(out);
  }

  // The comparison that follows a field: an operator, or ["not"] in / between / like.
  struct Form {
    enum Kind { cmp, in, between, like } kind = cmp;
    std::string op;  // cmp
    bool negated = false;
  };
  Form form(const Field& f) {
    Form fm;
    if (keyword("not")) {
      fm.negated = true;
      next();
      if (!keyword("in") && !keyword("between") && !keyword("like"))
        error(tok_.pos, "expected 'in', 'between' or 'like' after 'not'");
    }
    if (tok_.kind == Tok::op && !fm.negated) {
      fm.op = std::string(tok_.text);
    } else if (keyword("in")) {
      fm.kind = Form::in;
    } else if (keyword("between")) {
      fm.kind = Form::between;
    } else if (keyword("like")) {
      if (f.type != Type::text) error(tok_.pos, std::string("'like' compares strings; '") + f.name + "' is not one");
      fm.kind = Form::like;
    } else {
      error(tok_.pos, "expected a comparison (=, !=, <, <=, >, >=, in, between, like)");
    }
    next();
    return fm;
  }

  // condition := field op value | field ["not"] "in" "(" value ("," value)* ")"
  //            | field ["not"] "between" value "and" value | field ["not"] "like" string
  void condition() {
    const Field& f = field();
    if (&f == &kAttr) return attr_condition();
    const std::string column = f.column;
    const Form fm = form(f);
    // A field an item may lack: the condition is false for it (SQL's NULL, made 0), so that
    // "not" selects exactly the items the condition does not.
    if (f.nullable) out_.sql += "coalesce(";
    const char* no = fm.negated ? " NOT" : "";
    if (fm.kind == Form::cmp) {
      out_.sql += column + " " + fm.op + " ";
      value(f);
    } else if (fm.kind == Form::in) {
      expect(Tok::lparen, "'(' after 'in'");
      out_.sql += column + no + " IN (";
      value(f);
      while (tok_.kind == Tok::comma) {
        next();
        out_.sql += ", ";
        value(f);
      }
      expect(Tok::rparen, "',' or ')' in the 'in' list");
      out_.sql += ")";
    } else if (fm.kind == Form::between) {
      out_.sql += column + no + " BETWEEN ";
      value(f);
      if (!keyword("and")) error(tok_.pos, "expected 'and' in 'between ... and ...'");
      next();
      out_.sql += " AND ";
      value(f);
    } else {
      out_.sql += column + no + " LIKE ";
      value(f);
      out_.sql += " ESCAPE '\\'";
    }
    if (f.nullable) out_.sql += ", 0)";
  }

  // ------------------------------------------------------------------- user attributes
  // An attribute's literal: its SQL test on the attrs row (type and value), parameters bound.
  // A number matches numeric types (integer, real, bool, timestamp), true/false bools, a string
  // strings and, when it reads as a time, timestamps.
  void attr_test(const std::string& op) {
    count_values(2);
    const size_t pos = tok_.pos;
    if (tok_.kind == Tok::number) {
      int64_t i = 0;
      double r = 0;
      out_.sql += "(type IN (2, 3, 4, 5) AND value " + op + " ?)";
      if (parse_integer(std::string(tok_.text), i))
        out_.params.emplace_back(i);
      else if (parse_real(std::string(tok_.text), r))
        out_.params.emplace_back(r);
      else
        error(pos, "'" + std::string(tok_.text) + "' is not a number");
    } else if (keyword("true") || keyword("false")) {
      out_.sql += "(type = 4 AND value " + op + " ?)";
      out_.params.emplace_back(int64_t{keyword("true") ? 1 : 0});
    } else if (tok_.kind == Tok::string) {
      int64_t t = 0;
      if (parse_time(tok_.value, t)) {
        out_.sql += "((type = 1 AND value " + op + " ?) OR (type = 5 AND value " + op + " ?))";
        out_.params.emplace_back(tok_.value);
        out_.params.emplace_back(t);
      } else {
        out_.sql += "(type = 1 AND value " + op + " ?)";
        out_.params.emplace_back(tok_.value);
      }
    } else {
      error(pos, "expected a value for 'attr." + attr_key_ + "' (a number, a string, true or false)");
    }
    next();
  }

  // The items with the attribute whose value passes: id IN (SELECT id FROM attrs WHERE ...).
  void attr_condition() {
    const Form fm = form(kAttr);
    count_values(1);
    out_.sql += "id IN (SELECT id FROM attrs WHERE key = ? AND ";
    out_.params.emplace_back(attr_key_);
    if (fm.negated) out_.sql += "NOT ";
    if (fm.kind == Form::cmp) {
      attr_test(fm.op);
    } else if (fm.kind == Form::in) {
      expect(Tok::lparen, "'(' after 'in'");
      out_.sql += "(";
      attr_test("=");
      while (tok_.kind == Tok::comma) {
        next();
        out_.sql += " OR ";
        attr_test("=");
      }
      expect(Tok::rparen, "',' or ')' in the 'in' list");
      out_.sql += ")";
    } else if (fm.kind == Form::between) {
      out_.sql += "(";
      attr_test(">=");
      if (!keyword("and")) error(tok_.pos, "expected 'and' in 'between ... and ...'");
      next();
      out_.sql += " AND ";
      attr_test("<=");
      out_.sql += ")";
    } else {
      if (tok_.kind != Tok::string) error(tok_.pos, "expected a string after 'like'");
      count_values(1);
      out_.sql += "(type = 1 AND value LIKE ? ESCAPE '\\')";
      out_.params.emplace_back(tok_.value);
      next();
    }
    out_.sql += ")";
  }

  std::string attr_key_;  // the name after "attr." of the field just read
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
