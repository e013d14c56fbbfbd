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
cbir_model_info_t model_info(const cbir_model_t* model);

// Opens the collection at db_dir(). `create`: make it for this model when missing (spec from
// --index-spec when given). A model, when given, must match it.
CollectionPtr open_collection(const Args& args, const cbir_model_t* model, bool create,
                              bool read_only);

// Prints search results (ids/scores as a search fills them, -1 padded) as a table, or one JSON
// line each with --json; `query` > 0 adds "query": N to each JSON line (search --queries).
void print_hits(const cbir_collection_t* coll, const std::vector<int64_t>& ids,
                const std::vector<float>& scores, bool json, int query = 0);

}  // namespace cli
