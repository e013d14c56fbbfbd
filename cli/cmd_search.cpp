// cbir search: by text (Chinese or English), by an image file, or "more like" an item.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
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
    "       cbir search [OPTIONS] [TEXT] [--plus TEXT]... [--minus TEXT]... [--image PATH[:W]]...\n"
    "\n"
    "Finds the images closest to a text (Chinese or English), to an image file, or to an item of\n"
    "the collection (by id, or by the path it was indexed under; the item itself is left out).\n"
    "Prints rank, score (cosine similarity), id and path.\n"
    "\n"
    "--queries FILE runs one text query per line of FILE ('-': standard input), loading the model\n"
    "once; blank lines are skipped. Each query's results follow a line '# N: TEXT' (N counts\n"
    "lines from 1); with --json each result carries \"query\": N instead.\n"
    "\n"
    "A composite query adds and subtracts: TEXT and each --plus weigh 1, each --minus -1, each\n"
    "--image PATH:W weighs W (1 without ':W'); the query is the normalised weighted sum of the\n"
    "parts' normalised vectors (cbir_query_compose), e.g.\n"
    "  cbir search \"a dog\" --plus \"beach\" --minus \"people\" --image ref.jpg:0.5\n"
    "\n"
    "  --db DIR          collection folder (default $CBIR_DB, else ./cbir-index)\n"
    "  --model DIR       model bundle (default $CBIR_MODEL, else the shipped default model)\n"
    "  -k, --k N         number of results (default 10)\n"
    "  --min-score S     drop results scoring below S\n"
    "  --prefix P        only items whose path starts with P\n"
    "  --where EXPR      only items the filter selects, e.g. \"taken >= '2024-06-01' and\n"
    "                    make = 'Apple' and attr.album = 'Rome'\" (docs/filters.md)\n"
    "  --plus TEXT       add a text to the query (repeatable)\n"
    "  --minus TEXT      subtract a text from the query (repeatable)\n"
    "  --space NAME      the vector space searched (cbir info lists them; default the first);\n"
    "                    --model must then be that space's model, e.g. a DINOv2 bundle for\n"
    "                    \"the same object\": cbir search --space dino --model DINO --image q.jpg\n"
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

// "PATH:W" -> (PATH, W) when what follows the last ':' is a number; else (the whole, 1).
std::pair<std::string, float> weighted_path(const std::string& s) {
  const size_t colon = s.rfind(':');
  if (colon != std::string::npos && colon + 1 < s.size()) {
    char* end = nullptr;
    const std::string w = s.substr(colon + 1);
    const double v = std::strtod(w.c_str(), &end);
    if (*end == '\0' && std::isfinite(v)) return {s.substr(0, colon), static_cast<float>(v)};
  }
  return {s, 1.0f};
}

bool composite(const Args& args) {
  const size_t images = args.all("--image").size();
  return args.has("--plus") || args.has("--minus") || images > 1 ||
         (images == 1 && !args.positional().empty());
}

// TEXT, --plus, --minus and --image parts summed into one query (cbir_query_compose).
int search_composite(const Args& args, const cbir_search_options_t& opts, size_t k) {
  std::vector<cbir_query_part_t> parts;
  std::vector<std::string> keep;  // the parts' strings
  auto add = [&](int32_t kind, const std::string& text, float weight) {
    keep.push_back(text);
    cbir_query_part_t p{};
    p.kind = kind;
    p.weight = weight;
    parts.push_back(p);
  };
  for (const std::string& t : args.positional()) add(CBIR_PART_TEXT, t, 1);
  for (const std::string& t : args.all("--plus")) add(CBIR_PART_TEXT, t, 1);
  for (const std::string& t : args.all("--minus")) add(CBIR_PART_TEXT, t, -1);
  for (const std::string& s : args.all("--image")) {
    const auto [path, weight] = weighted_path(s);
    add(CBIR_PART_IMAGE_FILE, path, weight);
  }
  for (size_t i = 0; i < parts.size(); ++i) parts[i].text = keep[i].c_str();
  const bool texts = !args.positional().empty() || args.has("--plus") || args.has("--minus");
  const bool images = args.has("--image");
  ModelPtr model = open_model(args, (texts ? CBIR_TOWER_TEXT : 0) | (images ? CBIR_TOWER_IMAGE : 0));
  CollectionPtr coll = open_collection(args, model.get(), false, /*read_only=*/true);
  std::vector<float> query(static_cast<size_t>(model_info(model.get()).dim));
  check(cbir_query_compose(query.data(), query.size(), model.get(), coll.get(), parts.data(),
                           parts.size()),
        "composite query");
  std::vector<int64_t> ids(k);
  std::vector<float> scores(k);
  check(cbir_collection_search(ids.data(), scores.data(), coll.get(), query.data(), 1,
                               query.size(), k, &opts));
  print_hits(coll.get(), ids, scores, args.has("--json"));
  return 0;
}

}  // namespace

int cmd_search(int argc, char** argv) {
  for (int i = 0; i < argc; ++i)
    if (std::string(argv[i]) == "-k") argv[i] = const_cast<char*>("--k");
  Args args(argc, argv,
            {CLI_SESSION_FLAGS, "--image", "--like", "--k", "--min-score", "--prefix",
             "--where", "--ef-search", "--nprobe", "--queries", "--plus", "--minus", "--space"},
            {"--json"});
  const bool mixed = composite(args);
  int modes = (args.has("--image") && !mixed ? 1 : 0) + (args.has("--like") ? 1 : 0) +
              (args.has("--queries") ? 1 : 0) + (args.positional().empty() || mixed ? 0 : 1) +
              (mixed ? 1 : 0);
  if (modes != 1)
    throw UsageError("give exactly one of: a TEXT, --image PATH, --like ID|PATH, --queries FILE, "
                     "or a composite query (TEXT, --plus, --minus, --image)");
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
  const std::string space = args.get("--space", "");
  if (args.has("--space")) opts.space = space.c_str();
  if (args.has("--queries")) return search_many(args, opts, k);
  if (mixed) return search_composite(args, opts, k);

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
