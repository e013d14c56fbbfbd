// cbir info / remove / compact / rebuild: looking after a collection.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.hpp"
#include "session.hpp"

namespace cli {

const char* const kInfoUsage =
    "usage: cbir info [--db DIR] [--model DIR] [--json]\n"
    "\n"
    "Describes the collection (items, index, model fingerprint) and the model bundle.\n";

const char* const kRemoveUsage =
    "usage: cbir remove [--db DIR] ID|PATH...\n"
    "\n"
    "Removes items by id or by the path they were indexed under, and commits.\n";

const char* const kCompactUsage =
    "usage: cbir compact [--db DIR]\n"
    "\n"
    "Rebuilds the index without removed vectors, forgets old removals, and saves.\n";

const char* const kRebuildUsage =
    "usage: cbir rebuild [--db DIR] [--index-spec SPEC]\n"
    "\n"
    "Rebuilds the index from the stored vectors (never re-encoding), with a new spec:\n"
    "  flat | hnsw[:M=32,efConstruction=40,efSearch=64] | ivf[:nlist=N,nprobe=N,code=sq8] |\n"
    "  faiss:<factory string> | auto\n";

int cmd_info(int argc, char** argv) {
  Args args(argc, argv, {CLI_SESSION_FLAGS}, {"--json"});
  if (!args.positional().empty()) throw UsageError("info takes no arguments");
  bool json = args.has("--json");
  std::string mdir = model_dir(args);

  CollectionPtr coll = open_collection(args, nullptr, false, /*read_only=*/true);
  cbir_collection_info_t* ci = nullptr;
  check(cbir_collection_info(&ci, coll.get()));
  std::unique_ptr<cbir_collection_info_t, void (*)(void*)> ci_owner(ci, cbir_free);

  ModelPtr model;
  cbir_model_info_t mi{};
  if (args.has("--model") || std::getenv("CBIR_MODEL")) {
    model = open_model(args);
    mi = model_info(model.get());
  }
  if (json) {
    std::printf("{\"collection\": {\"path\": %s, \"count\": %llu, \"dim\": %d, \"index_spec\": %s, "
                "\"effective_spec\": %s, \"fingerprint\": %s, \"masked\": %llu}",
                json_quote(ci->path).c_str(), static_cast<unsigned long long>(ci->count), ci->dim,
                json_quote(ci->index_spec).c_str(), json_quote(ci->effective_spec).c_str(),
                json_quote(ci->fingerprint).c_str(), static_cast<unsigned long long>(ci->masked));
    std::string spaces;
    for (const SpaceRow& s : spaces_of(coll.get()))
      spaces += std::string(spaces.empty() ? "" : ", ") + "{\"name\": " + json_quote(s.name) +
                ", \"model\": " + json_quote(s.fingerprint) + ", \"dim\": " + std::to_string(s.dim) +
                ", \"index\": " + json_quote(s.effective_spec) + ", \"count\": " + std::to_string(s.count) + "}";
    std::printf(", \"spaces\": [%s]", spaces.c_str());
    std::string towers;  // each loaded tower and what it computes in
    if (model && mi.has_image) towers = "\"image\": " + json_quote(mi.compute_precision);
    if (model && mi.has_text)
      towers += (towers.empty() ? "" : ", ") + ("\"text\": " + json_quote(mi.compute_precision));
    if (model)
      std::printf(", \"model\": {\"name\": %s, \"family\": %s, \"dim\": %d, \"fingerprint\": %s, "
                  "\"device\": %s, \"precision\": %s, \"towers\": {%s}, \"matches\": %s}",
                  json_quote(mi.name).c_str(), json_quote(mi.family).c_str(), mi.dim,
                  json_quote(mi.fingerprint).c_str(), json_quote(mi.device).c_str(),
                  json_quote(mi.precision).c_str(),
                  towers.c_str(),
                  std::string(mi.fingerprint) == ci->fingerprint ? "true" : "false");
    std::printf(", %s}\n", cpu_json().c_str());
    return 0;
  }
  std::printf("collection  %s\n  items       %llu\n  dim         %d\n  index       %s (%s)\n"
              "  fingerprint %s\n",
              ci->path, static_cast<unsigned long long>(ci->count), ci->dim, ci->effective_spec,
              ci->index_spec, ci->fingerprint);
  if (ci->masked) std::printf("  removed, awaiting compact: %llu\n", static_cast<unsigned long long>(ci->masked));
  for (const SpaceRow& s : spaces_of(coll.get()))
    std::printf("  space       %s: %llu vectors of %d, %s, model %s\n", s.name.c_str(),
                static_cast<unsigned long long>(s.count), s.dim, s.effective_spec.c_str(),
                s.fingerprint.c_str());
  if (model) {
    std::printf("model       %s\n  name        %s (%s)\n  dim         %d\n  towers      %s%s\n"
                "  device      %s\n  precision   %s (bundle %s)\n  fingerprint %s%s\n",
                mi.path, mi.name, mi.family, mi.dim, mi.has_image ? "image " : "",
                mi.has_text ? "text" : "", mi.device, mi.compute_precision, mi.precision,
                mi.fingerprint,
                std::string(mi.fingerprint) == ci->fingerprint ? " (matches)" : " (DIFFERENT)");
  }
  return 0;
}

int cmd_remove(int argc, char** argv) {
  Args args(argc, argv, {"--db"}, {});
  if (args.positional().empty()) throw UsageError("give the ids or paths to remove");
  CollectionPtr coll = open_collection(args, nullptr, false, false);
  size_t removed = 0;
  for (const std::string& target : args.positional()) {
    bool numeric = target.find_first_not_of("0123456789") == std::string::npos;
    int64_t id = -1;
    if (!numeric || cbir_collection_find(&id, coll.get(), target.c_str()) == CBIR_OK) {
      check(cbir_collection_remove_uri(coll.get(), target.c_str()), target);
      ++removed;
      continue;
    }
    id = std::strtoll(target.c_str(), nullptr, 10);
    size_t n = 0;
    check(cbir_collection_remove(&n, coll.get(), &id, 1));
    if (n == 0) throw Failure("no item with id " + target);
    removed += n;
  }
  check(cbir_collection_save(coll.get()));
  std::printf("removed %zu\n", removed);
  return 0;
}

int cmd_compact(int argc, char** argv) {
  Args args(argc, argv, {"--db"}, {});
  if (!args.positional().empty()) throw UsageError("compact takes no arguments");
  CollectionPtr coll = open_collection(args, nullptr, false, false);
  check(cbir_collection_compact(coll.get()));
  check(cbir_collection_save(coll.get()));
  std::printf("compacted\n");
  return 0;
}

int cmd_rebuild(int argc, char** argv) {
  Args args(argc, argv, {"--db", "--index-spec"}, {});
  if (!args.positional().empty()) throw UsageError("rebuild takes no arguments (use --index-spec)");
  CollectionPtr coll = open_collection(args, nullptr, false, false);
  std::string spec = args.get("--index-spec", "");
  check(cbir_collection_rebuild(coll.get(), args.has("--index-spec") ? spec.c_str() : nullptr));
  check(cbir_collection_save(coll.get()));
  cbir_collection_info_t* ci = nullptr;
  check(cbir_collection_info(&ci, coll.get()));
  std::printf("rebuilt: %s, %llu items\n", ci->effective_spec, static_cast<unsigned long long>(ci->count));
  cbir_free(ci);
  return 0;
}

}  // namespace cli
