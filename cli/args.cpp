#include "args.hpp"

#include <cerrno>
#include <cstdlib>

namespace cli {

Args::Args(int argc, char** argv, std::set<std::string> value_flags,
           std::set<std::string> switches) {
  value_flags.insert("--help");  // handled by main(); accepted everywhere
  switches.insert("--help");
  bool only_positional = false;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (only_positional || a.size() < 2 || a[0] != '-' || a == "-") {
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string name = a, value;
    bool inline_value = false;
    auto eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    if (switches.count(name) && !inline_value) {
      given_.emplace(name, "");
    } else if (value_flags.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argc) throw UsageError(name + " needs a value");
        value = argv[++i];
      }
      given_.emplace(name, value);
    } else {
      throw UsageError("unknown option " + name);
    }
  }
}

std::string Args::get(const std::string& flag, const std::string& fallback) const {
  auto it = given_.find(flag);
  return it == given_.end() ? fallback : it->second;
}

long Args::get_int(const std::string& flag, long fallback, long min, long max) const {
  if (!has(flag)) return fallback;
  std::string v = get(flag);
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < min || n > max)
    throw UsageError(flag + " must be a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", not '" + v + "'");
  return n;
}

double Args::get_double(const std::string& flag, double fallback) const {
  if (!has(flag)) return fallback;
  std::string v = get(flag);
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') throw UsageError(flag + " must be a number, not '" + v + "'");
  return d;
}

std::vector<std::string> Args::all(const std::string& flag) const {
  std::vector<std::string> out;
  auto range = given_.equal_range(flag);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

}  // namespace cli
