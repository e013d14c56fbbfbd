// A small command-line parser for the cbir command: each command names the flags it takes,
// anything else is a usage error.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace cli {

// Thrown for a wrong command line; main() prints it with the command's usage, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown for a failed operation; main() prints "cbir: error: <message>", exit code 1.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  // value_flags take one value (--k 5 or --k=5); switches take none (--json).
  Args(int argc, char** argv, std::set<std::string> value_flags, std::set<std::string> switches);

  bool has(const std::string& flag) const { return given_.count(flag) != 0; }
  std::string get(const std::string& flag, const std::string& fallback = "") const;
  long get_int(const std::string& flag, long fallback, long min, long max) const;
  double get_double(const std::string& flag, double fallback) const;
  // Every value given for a flag that may repeat (--label a --label b).
  std::vector<std::string> all(const std::string& flag) const;

  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> given_;
  std::vector<std::string> positional_;
};

}  // namespace cli
