// cbir duplicates: groups of near-identical images (cbir_collection_duplicates), as JSON lines.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "session.hpp"

namespace cli {

const char* const kDuplicatesUsage =
    "usage: cbir duplicates [--db DIR] [--threshold S] [--prefix P] [--where EXPR]\n"
    "\n"
    "Finds groups of near-identical images: items whose vectors score at least S (cosine,\n"
    "default 0.95) against each other, joined transitively. Prints one JSON line per group,\n"
    "the largest first: {\"group\": N, \"size\": S, \"items\": [{\"id\": ..., \"uri\": ...}, ...]},\n"
    "and nothing when there is none. Each item's 64 nearest neighbours are looked at through\n"
    "the collection's index; memory grows with the number of items, not its square.\n"
    "\n"
    "  --db DIR          collection folder (default $CBIR_DB, else ./cbir-index)\n"
    "  --threshold S     the lowest score that makes two images duplicates (default 0.95)\n"
    "  --prefix P        only items whose path starts with P\n"
    "  --where EXPR      only items the filter selects (docs/filters.md)\n";

int cmd_duplicates(int argc, char** argv) {
  Args args(argc, argv, {"--db", "--threshold", "--prefix", "--where"}, {});
  if (!args.positional().empty()) throw UsageError("duplicates takes no arguments");
  const double threshold = args.get_double("--threshold", 0.95);
  if (!(threshold >= -1 && threshold <= 1)) throw UsageError("--threshold is a score from -1 to 1");
  cbir_search_options_t opts = CBIR_SEARCH_OPTIONS_INIT;
  const std::string prefix = args.get("--prefix", ""), where = args.get("--where", "");
  if (args.has("--prefix")) opts.uri_prefix = prefix.c_str();
  if (args.has("--where")) opts.where = where.c_str();
  CollectionPtr coll = open_collection(args, nullptr, false, /*read_only=*/true);
  int64_t* ids = nullptr;
  size_t* offsets = nullptr;
  size_t groups = 0;
  check(cbir_collection_duplicates(&ids, &offsets, &groups, coll.get(),
                                   static_cast<float>(threshold), &opts, nullptr, nullptr));
  std::unique_ptr<int64_t, void (*)(void*)> own_ids(ids, cbir_free);
  std::unique_ptr<size_t, void (*)(void*)> own_offsets(offsets, cbir_free);
  std::vector<size_t> order(groups);  // largest first, then by first id
  for (size_t g = 0; g < groups; ++g) order[g] = g;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return offsets[a + 1] - offsets[a] > offsets[b + 1] - offsets[b];
  });
  for (size_t n = 0; n < groups; ++n) {
    const size_t g = order[n];
    std::string line = "{\"group\": " + std::to_string(n) + ", \"size\": " +
                       std::to_string(offsets[g + 1] - offsets[g]) + ", \"items\": [";
    for (size_t i = offsets[g]; i < offsets[g + 1]; ++i) {
      cbir_item_t* item = nullptr;
      check(cbir_collection_get(&item, coll.get(), ids[i]));
      std::unique_ptr<cbir_item_t, void (*)(void*)> owner(item, cbir_free);
      if (i > offsets[g]) line += ", ";
      line += "{\"id\": " + std::to_string(ids[i]) + ", \"uri\": " + json_quote(item->uri) + "}";
    }
    std::printf("%s]}\n", line.c_str());
  }
  return 0;
}

}  // namespace cli
