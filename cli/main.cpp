// cbir: index and search images from the command line. Written against cbir.h only.
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.hpp"

namespace cli {

void check(int status, const std::string& context) {
  if (status == CBIR_OK) return;
  std::string msg = cbir_last_error();
  if (msg.empty()) msg = cbir_status_str(status);
  throw Failure(context.empty() ? msg : context + ": " + msg);
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

int cmd_version(int argc, char** argv) {
  Args args(argc, argv, {}, {"--json"});
  if (!args.positional().empty()) throw UsageError("version takes no arguments");
  const uint32_t f = cbir_features();
  auto yes = [f](uint32_t bit) { return (f & bit) ? "true" : "false"; };
  if (args.has("--json")) {
    std::printf("{\"version\": %s, \"build\": %s, \"features\": {\"cuda\": %s, \"openmp\": %s, "
                "\"turbojpeg\": %s}, \"image_formats\": %s, %s}\n",
                json_quote(cbir_version_string()).c_str(), json_quote(cbir_build_info()).c_str(),
                yes(CBIR_FEATURE_CUDA), yes(CBIR_FEATURE_OPENMP), yes(CBIR_FEATURE_TURBOJPEG),
                json_list(cbir_image_formats()).c_str(), cpu_json().c_str());
    return 0;
  }
  std::printf("cbir %s\n%s\n", cbir_version_string(), cbir_build_info());
  std::printf("features: cuda=%s openmp=%s turbojpeg=%s cpu_bf16=%s\n",
              (f & CBIR_FEATURE_CUDA) ? "yes" : "no", (f & CBIR_FEATURE_OPENMP) ? "yes" : "no",
              (f & CBIR_FEATURE_TURBOJPEG) ? "yes" : "no", (f & CBIR_FEATURE_CPU_BF16) ? "yes" : "no");
  std::printf("image formats: %s\n", cbir_image_formats());
  return 0;
}

std::string json_list(const std::string& words) {
  std::string list;
  for (size_t start = 0; start < words.size();) {
    size_t space = words.find(' ', start);
    if (space == std::string::npos) space = words.size();
    list += (list.empty() ? "" : ", ") + json_quote(words.substr(start, space - start));
    start = space + 1;
  }
  return "[" + list + "]";
}

std::string cpu_json() {
  const std::string list = json_list(cbir_cpu_features());
  const bool bf16 = (cbir_features() & CBIR_FEATURE_CPU_BF16) != 0;
  return std::string("\"cpu\": {\"features\": ") + list + ", \"native_bf16\": " +
         (bf16 ? "true" : "false") + ", \"auto_precision\": \"" + (bf16 ? "bf16" : "fp32") + "\"}";
}

const Command kCommands[] = {
    {"version", "print the library version and build features",
     "usage: cbir version [--json]\n\nPrints the version of libcbir, what it was built with, and "
     "what this CPU offers\n(its instruction sets; whether --precision auto means bf16 here).\n",
     cmd_version},
    {"preprocess", "write the pixels an image encoder would get, to diff against Python",
     kPreprocessUsage, cmd_preprocess},
    {"tokenize", "show the word pieces and ids a text query becomes", kTokenizeUsage,
     cmd_tokenize},
    {"index", "index the images of folders or files", kIndexUsage, cmd_index},
    {"search", "search by text, by image, or like an item", kSearchUsage, cmd_search},
    {"info", "describe the collection and the model", kInfoUsage, cmd_info},
    {"classify", "zero-shot: probabilities of an image over labels", kClassifyUsage, cmd_classify},
    {"remove", "remove items by id or path", kRemoveUsage, cmd_remove},
    {"compact", "purge removed vectors from the index", kCompactUsage, cmd_compact},
    {"rebuild", "rebuild the index with another index spec", kRebuildUsage, cmd_rebuild},
    {"verify", "check the catalog, the index snapshot and their agreement", kVerifyUsage,
     cmd_verify},
    {"backup", "copy a collection consistently while it is in use", kBackupUsage, cmd_backup},
    {"export", "write ids, paths and vectors (.npy + .jsonl)", kExportUsage, cmd_export},
    {"duplicates", "groups of near-identical images, as JSON lines", kDuplicatesUsage, cmd_duplicates},
    {"serve", "a web gallery: search in the browser, JSON API", kServeUsage, cmd_serve},
    // @commands: one entry per command, in the order `cbir --help` lists them.
};

void print_overview() {
  std::printf("usage: cbir COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
  for (const Command& c : kCommands) std::printf("  %-12s %s\n", c.name, c.summary);
  std::printf("\nRun 'cbir COMMAND --help' for a command's options.\n");
}

}  // namespace cli

int main(int argc, char** argv) {
  using namespace cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    print_overview();
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) argv[1] = const_cast<char*>("version");
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    for (int i = 2; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
        std::fputs(c.usage, stdout);
        return 0;
      }
      if (!std::strcmp(argv[i], "--")) break;
    }
    try {
      return c.run(argc - 2, argv + 2);
    } catch (const UsageError& e) {
      std::fprintf(stderr, "cbir %s: %s\n%s", c.name, e.what(), c.usage);
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cbir: error: %s\n", e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "cbir: unknown command '%s' (run 'cbir --help')\n", argv[1]);
  return 2;
}
