// The cbir command's subcommands. Each lives in its own cmd_<name>.cpp, is written against
// cbir.h only, and is listed once in main.cpp's table.
#pragma once

#include <string>

#include "args.hpp"
#include "cbir.h"

namespace cli {

struct Command {
  const char* name;
  const char* summary;  // one line, shown by `cbir --help`
  const char* usage;    // full help text, shown by `cbir NAME --help`
  int (*run)(int argc, char** argv);  // argv holds the arguments after NAME
};

// Turns a failed cbir status into a Failure carrying cbir_last_error().
void check(int status, const std::string& context = "");

// JSON string literal for UTF-8 text (control characters and quotes escaped).
std::string json_quote(const std::string& s);

// "\"cpu\": {\"features\": [...], \"native_bf16\": B, \"auto_precision\": \"bf16\"|\"fp32\"}":
// what cbir_cpu_features() and CBIR_FEATURE_CPU_BF16 say, for version --json and info --json.
// A JSON array of the space-separated words.
std::string json_list(const std::string& words);
std::string cpu_json();

int cmd_version(int argc, char** argv);

extern const char* const kPreprocessUsage;
int cmd_preprocess(int argc, char** argv);

extern const char* const kTokenizeUsage;
int cmd_tokenize(int argc, char** argv);

extern const char* const kIndexUsage;
int cmd_index(int argc, char** argv);
extern const char* const kSearchUsage;
int cmd_search(int argc, char** argv);
extern const char* const kInfoUsage;
int cmd_info(int argc, char** argv);
extern const char* const kRemoveUsage;
int cmd_remove(int argc, char** argv);
extern const char* const kCompactUsage;
int cmd_compact(int argc, char** argv);
extern const char* const kVerifyUsage;
int cmd_verify(int argc, char** argv);
extern const char* const kBackupUsage;
int cmd_backup(int argc, char** argv);
extern const char* const kRebuildUsage;
int cmd_rebuild(int argc, char** argv);
extern const char* const kClassifyUsage;
int cmd_classify(int argc, char** argv);
extern const char* const kExportUsage;
int cmd_export(int argc, char** argv);
extern const char* const kDuplicatesUsage;
int cmd_duplicates(int argc, char** argv);
extern const char* const kServeUsage;
int cmd_serve(int argc, char** argv);

}  // namespace cli
