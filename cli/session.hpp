// What most commands share: where the model and the collection are, opening them, output.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "args.hpp"
#include "cbir.h"

namespace cli {

// Flags every model/collection command takes.
#define CLI_SESSION_FLAGS "--db", "--model", "--threads", "--device", "--precision"

// --model, else $CBIR_MODEL, else the default bundle this build knows about.
std::string model_dir(const Args& args);
// --db, else $CBIR_DB, else ./cbir-index.
std::string db_dir(const Args& args);

struct ModelCloser {
  void operator()(cbir_model_t* m) const { cbir_model_close(m); }
};
struct CollectionCloser {
  void operator()(cbir_collection_t* c) const { cbir_collection_close(c); }
};
using ModelPtr = std::unique_ptr<cbir_model_t, ModelCloser>;
using CollectionPtr = std::unique_ptr<cbir_collection_t, CollectionCloser>;

// Opens the model that --model/--device/--threads/--precision name (precision auto by default:
// bf16 on a CPU that has it, cbir.h); `towers`: CBIR_TOWER_* to load (0: all). Threads default
// to one per core when `all_cores`, else to the process setting (cbir serve: its requests run
// side by side, each on one thread).
ModelPtr open_model(const Args& args, uint32_t towers = 0, bool all_cores = true);
// The same for the bundle in `dir`.
ModelPtr open_model_at(const Args& args, const std::string& dir, uint32_t towers = 0,
                       bool all_cores = true);
cbir_model_info_t model_info(const cbir_model_t* model);

// Opens the collection at db_dir(). `create`: make it for this model when missing (spec from
// --index-spec when given; its first vector space named after the model's family). A model,
// when given, must match it: its first space, or with --space NAME that space.
CollectionPtr open_collection(const Args& args, const cbir_model_t* model, bool create,
                              bool read_only);

// A collection's vector spaces (cbir_collection_spaces), the first one first.
struct SpaceRow {
  std::string name, fingerprint, effective_spec;
  int32_t dim = 0;
  uint64_t count = 0;
};
std::vector<SpaceRow> spaces_of(const cbir_collection_t* coll);
// The name a model's space gets by default: "clip" (Chinese-CLIP), "dino" (DINOv2), "default".
std::string default_space_name(const cbir_model_info_t& info);

// Prints search results (ids/scores as a search fills them, -1 padded) as a table, or one JSON
// line each with --json; `query` > 0 adds "query": N to each JSON line (search --queries).
void print_hits(const cbir_collection_t* coll, const std::vector<int64_t>& ids,
                const std::vector<float>& scores, bool json, int query = 0);

}  // namespace cli
