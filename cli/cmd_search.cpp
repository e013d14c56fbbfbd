// cbir search: by text (Chinese or English), by an image file, or "more like" an item.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "session.hpp"

namespace cli {

const char* const kSearchUsage =
    "usage: cbir search [OPTIONS] TEXT\n"
    "       cbir search [OPTIONS] --image PATH\n"
    "       cbir search [OPTIONS] --like ID|PATH\n"
    "       cbir search [OPTIONS] --queries FILE\n"
    "\n"
    "Finds the images closest to a text (Chinese or English), to an image file, or to an item of\n"
    "the collection (by id, or by the path it was indexed under; the item itself is left out).\n"
    "Prints rank, score (cosine similarity), id and path.\n"
    "\n"
    "--queries FILE runs one text query per line of FILE ('-': standard input), loading the model\n"
    "once; blank lines are skipped. Each query's results follow a line '# N: TEXT' (N counts\n"
    "lines from 1); with --json each result carries \"query\": N instead.\n"
    "\n"
    "  --db DIR          collection folder (default $CBIR_DB, else ./cbir-index)\n"
    "  --model DIR       model bundle (default $CBIR_MODEL, else the shipped default model)\n"
    "  -k, --k N         number of results (default 10)\n"
    "  --min-score S     drop results scoring below S\n"
    "  --prefix P        only items whose path starts with P\n"
    "  --where EXPR      only items the filter selects, e.g. \"width >= 1000 and path like\n"
    "                    '%/beach/%'\" (docs/filters.md)\n"
    "  --ef-search N     hnsw: search breadth for this query\n"
    "  --nprobe N        ivf: lists probed for this query\n"
    "  --threads N       inference threads (default: one per core)\n"
    "  --device DEV      cpu, cuda, cuda:N or auto (default)\n"
    "  --precision P     auto (default: bf16 where the CPU has it), fp32, bf16 or fp16\n"
    "  --json            one JSON object per result\n"
    "  --queries FILE    many text queries, one per line (see above)\n";

namespace {

// An --like argument: an id when it is all digits and no such file exists, else a path.
bool parse_id(const std::string& s, int64_t* id) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
  struct stat st;
  if (stat(s.c_str(), &st) == 0) return false;
  errno = 0;
  *id = std::strtoll(s.c_str(), nullptr, 10);
  return errno == 0;
}

// --queries: each non-blank line of the file (or stdin) is a text query, its results printed
// under its line number.
int search_many(const Args& args, const cbir_search_options_t& opts, size_t k) {
  std::string name = args.get("--queries");
  std::ifstream file;
  if (name != "-") {
    file.open(name);
    if (!file) throw Failure("cannot read the queries file '" + name + "': " + std::strerror(errno));
  }
  std::istream& in = name == "-" ? std::cin : file;
  ModelPtr model = open_model(args, CBIR_TOWER_TEXT);
  CollectionPtr coll = open_collection(args, model.get(), false, /*read_only=*/true);
  std::vector<float> query(static_cast<size_t>(model_info(model.get()).dim));
  std::vector<int64_t> ids(k);
  std::vector<float> scores(k);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const char* text = line.c_str();
    check(cbir_model_embed_texts(query.data(), model.get(), &text, 1),
          "query on line " + std::to_string(number));
    check(cbir_collection_search(ids.data(), scores.data(), coll.get(), query.data(), 1,
                                 query.size(), k, &opts));
    if (!args.has("--json")) std::printf("# %d: %s\n", number, line.c_str());
    print_hits(coll.get(), ids, scores, args.has("--json"), number);
  }
  if (in.bad()) throw Failure("reading the queries from '" + name + "' failed");
  return 0;
}

}  // namespace

int cmd_search(int argc, char** argv) {
  for (int i = 0; i < argc; ++i)
    if (std::string(argv[i]) == "-k") argv[i] = const_cast<char*>("--k");
  Args args(argc, argv,
            {CLI_SESSION_FLAGS, "--image", "--like", "--k", "--min-score", "--prefix",
             "--where", "--ef-search", "--nprobe", "--queries"},
            {"--json"});
  int modes = (args.has("--image") ? 1 : 0) + (args.has("--like") ? 1 : 0) +
              (args.has("--queries") ? 1 : 0) + (args.positional().empty() ? 0 : 1);
  if (modes != 1)
    throw UsageError("give exactly one of: a TEXT, --image PATH, --like ID|PATH, --queries FILE");
  if (args.positional().size() > 1)
    throw UsageError("quote the text: it must be one argument (e.g. cbir search \"a red circle\")");
  size_t k = static_cast<size_t>(args.get_int("--k", 10, 1, 100000));

  cbir_search_options_t opts = CBIR_SEARCH_OPTIONS_INIT;
  opts.min_score = static_cast<float>(args.get_double("--min-score", CBIR_SCORE_ANY));
  std::string prefix = args.get("--prefix", "");
  if (args.has("--prefix")) opts.uri_prefix = prefix.c_str();
  const std::string where = args.get("--where", "");
  if (args.has("--where")) opts.where = where.c_str();
  opts.ef_search = static_cast<int32_t>(args.get_int("--ef-search", 0, 0, 1 << 20));
  opts.nprobe = static_cast<int32_t>(args.get_int("--nprobe", 0, 0, 1 << 20));
  if (args.has("--queries")) return search_many(args, opts, k);

  std::vector<int64_t> ids(k);
  std::vector<float> scores(k);
  int64_t like_id = -1;
  if (args.has("--like") && parse_id(args.get("--like"), &like_id)) {
    CollectionPtr coll = open_collection(args, nullptr, false, /*read_only=*/true);
    check(cbir_collection_search_similar(ids.data(), scores.data(), coll.get(), like_id, k, &opts),
          "item " + std::to_string(like_id));
    print_hits(coll.get(), ids, scores, args.has("--json"));
    return 0;
  }

  if (args.has("--like")) {  // an indexed path: its stored vector, itself left out, no model
    CollectionPtr coll = open_collection(args, nullptr, false, /*read_only=*/true);
    int64_t id = -1;
    std::error_code ec;  // indexed paths are absolute and normalised (lib/ingest/walk.cpp)
    const std::string path =
        std::filesystem::absolute(args.get("--like"), ec).lexically_normal().string();
    if (cbir_collection_find(&id, coll.get(), path.c_str()) == CBIR_OK) {
      check(cbir_collection_search_similar(ids.data(), scores.data(), coll.get(), id, k, &opts));
      print_hits(coll.get(), ids, scores, args.has("--json"));
      return 0;
    }
  }

  ModelPtr model = open_model(args, args.positional().empty() ? CBIR_TOWER_IMAGE : CBIR_TOWER_TEXT);
  CollectionPtr coll = open_collection(args, model.get(), false, /*read_only=*/true);
  cbir_model_info_t info = model_info(model.get());
  std::vector<float> query(static_cast<size_t>(info.dim));
  if (!args.positional().empty()) {
    const char* text = args.positional()[0].c_str();
    check(cbir_model_embed_texts(query.data(), model.get(), &text, 1), "query");
  } else {  // --image, or --like a file that is not in the collection
    std::string path = args.has("--image") ? args.get("--image") : args.get("--like");
    const char* p = path.c_str();
    int32_t status = CBIR_OK;
    check(cbir_model_embed_image_files(query.data(), &status, model.get(), &p, 1));
    if (status != CBIR_OK) throw Failure(cbir_model_item_error(0));
  }
  check(cbir_collection_search(ids.data(), scores.data(), coll.get(), query.data(), 1, query.size(), k, &opts));
  print_hits(coll.get(), ids, scores, args.has("--json"));
  return 0;
}

}  // namespace cli
