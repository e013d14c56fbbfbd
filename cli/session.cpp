#include "session.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "commands.hpp"

namespace cli {

std::string model_dir(const Args& args) {
  if (args.has("--model")) return args.get("--model");
  if (const char* env = std::getenv("CBIR_MODEL")) return env;
  struct stat st;
  if (stat(CBIR_DEFAULT_MODEL_INSTALLED, &st) == 0) return CBIR_DEFAULT_MODEL_INSTALLED;
  return CBIR_DEFAULT_MODEL_SOURCE;
}

std::string db_dir(const Args& args) {
  if (args.has("--db")) return args.get("--db");
  if (const char* env = std::getenv("CBIR_DB")) return env;
  return "cbir-index";
}

ModelPtr open_model(const Args& args, uint32_t towers, bool all_cores) {
  return open_model_at(args, model_dir(args), towers, all_cores);
}

ModelPtr open_model_at(const Args& args, const std::string& dir, uint32_t towers, bool all_cores) {
  cbir_model_options_t opts = CBIR_MODEL_OPTIONS_INIT;
  // The model sizes OpenMP's and OpenBLAS's pools for its precision (cbir.h, `threads`). Left
  // to the process default, LibTorch runs one OpenMP thread here, so bf16 (oneDNN on OpenMP)
  // indexed at half speed on 2 cores: 4.9 against 9.1 images/s (bench/README.md).
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  const long fallback = all_cores && cores > 0 ? cores : 0;
  opts.threads = static_cast<int32_t>(args.get_int("--threads", fallback, 0, 1024));
  const std::string precision = args.get("--precision", "auto");
  if (precision == "auto") opts.precision = CBIR_PRECISION_AUTO;
  else if (precision == "fp32") opts.precision = CBIR_PRECISION_FP32;
  else if (precision == "bf16") opts.precision = CBIR_PRECISION_BF16;
  else if (precision == "fp16") opts.precision = CBIR_PRECISION_FP16;
  else throw UsageError("--precision must be auto, fp32, bf16 or fp16, not '" + precision + "'");
  std::string device = args.get("--device", "auto");
  opts.device = device.c_str();
  opts.towers = towers;
  cbir_model_t* m = nullptr;
  check(cbir_model_open(&m, dir.c_str(), &opts), "model " + dir);
  return ModelPtr(m);
}

cbir_model_info_t model_info(const cbir_model_t* model) {
  cbir_model_info_t info;
  info.version = sizeof info;
  check(cbir_model_info(&info, model));
  return info;
}

std::vector<SpaceRow> spaces_of(const cbir_collection_t* coll) {
  cbir_space_info_t* infos = nullptr;
  size_t n = 0;
  check(cbir_collection_spaces(&infos, &n, coll));
  std::vector<SpaceRow> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back({infos[i].name, infos[i].fingerprint, infos[i].effective_spec, infos[i].dim, infos[i].count});
  cbir_free(infos);
  return out;
}

CollectionPtr open_collection(const Args& args, const cbir_model_t* model, bool create,
                              bool read_only) {
  cbir_collection_options_t opts = CBIR_COLLECTION_OPTIONS_INIT;
  cbir_model_info_t info{};
  // With --space, the model is that space's: checked against it once the collection is open.
  const std::string space = args.get("--space", "");
  if (model) {
    info = model_info(model);
    if (space.empty()) {
      opts.dim = info.dim;
      opts.fingerprint = info.fingerprint;
    }
  }
  const std::string first_space = default_space_name(info);
  if (model && create) opts.space = first_space.c_str();
  if (create) opts.flags |= CBIR_OPEN_CREATE;
  if (read_only) opts.flags |= CBIR_OPEN_READONLY;
  std::string spec = args.get("--index-spec", "");
  if (!spec.empty()) opts.index_spec = spec.c_str();
  std::string dir = db_dir(args);
  cbir_collection_t* c = nullptr;
  int rc = cbir_collection_open(&c, dir.c_str(), &opts);
  if (rc == CBIR_ENOTFOUND && !create)
    throw Failure("no collection at '" + dir + "': index a folder first (cbir index DIR --db " +
                  dir + ")");
  check(rc, "collection " + dir);
  CollectionPtr coll(c);
  if (model && !space.empty()) {
    bool found = false;
    std::string names;
    for (const SpaceRow& s : spaces_of(coll.get())) {
      names += (names.empty() ? "" : ", ") + s.name;
      if (s.name != space) continue;
      found = true;
      if (s.fingerprint != info.fingerprint)
        throw Failure("the space '" + space + "' holds vectors of the model " + s.fingerprint +
                      ", not of " + info.name + " (" + info.fingerprint + "): give its model with --model");
    }
    if (!found) throw Failure("the collection at '" + dir + "' has no space '" + space + "' (it has " + names + ")");
  }
  return coll;
}

std::string default_space_name(const cbir_model_info_t& info) {
  const std::string family = info.family ? info.family : "";
  if (family.find("clip") != std::string::npos) return "clip";
  if (family.find("dino") != std::string::npos) return "dino";
  return "default";
}

void print_hits(const cbir_collection_t* coll, const std::vector<int64_t>& ids,
                const std::vector<float>& scores, bool json, int query) {
  int rank = 0;
  for (size_t i = 0; i < ids.size() && ids[i] >= 0; ++i) {
    struct {
      int64_t id;
      float score;
    } h{ids[i], scores[i]};
    ++rank;
    cbir_item_t* item = nullptr;
    std::string uri = "?";
    if (cbir_collection_get(&item, coll, h.id) == CBIR_OK) uri = item->uri;
    if (json) {
      if (query > 0) std::printf("{\"query\": %d, ", query);
      else std::printf("{");
      std::printf("\"rank\": %d, \"id\": %lld, \"score\": %.6f, \"uri\": %s}\n", rank,
                  static_cast<long long>(h.id), static_cast<double>(h.score), json_quote(uri).c_str());
    } else {
      std::printf("%3d  %.4f  %6lld  %s\n", rank, static_cast<double>(h.score),
                  static_cast<long long>(h.id), uri.c_str());
    }
    cbir_free(item);
  }
  if (rank == 0 && !json) std::printf("no results\n");
}

}  // namespace cli
