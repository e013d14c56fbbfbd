// Ingest entry points: folders and file lists into a collection, with a report.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "c_api/collection.hpp"
#include "c_api/guard.hpp"
#include "c_api/model.hpp"
#include "ingest/pipeline.hpp"

struct cbir_ingest_report_t {
  cbir::ingest::Report report;
};

namespace {

cbir::ingest::IngestOptions to_options(const cbir_ingest_options_t* given) {
  cbir_ingest_options_t defaults = CBIR_INGEST_OPTIONS_INIT;
  cbir_ingest_options_t o = cbir::capi::options_or_default(given, defaults, "ingest options");
  cbir::require(o.workers >= 0, "ingest options: workers must be >= 0 (0 = one per core)");
  cbir::require(o.commit_every >= 0, "ingest options: commit_every must be >= 0 (0 = 256)");
  cbir::ingest::IngestOptions out;
  out.walk.recursive = o.recursive != 0;
  out.walk.follow_symlinks = o.follow_symlinks != 0;
  if (o.extensions != nullptr)
    out.walk.extensions = o.extensions[0] ? cbir::ingest::parse_extensions(o.extensions)
                                          : std::vector<std::string>{};
  out.workers = o.workers;
  out.commit_every = o.commit_every > 0 ? static_cast<size_t>(o.commit_every) : 256;
  out.prune = o.prune != 0;
  out.fast_decode = o.fast_decode != 0;
  if (o.progress != nullptr) {
    cbir_progress_fn fn = o.progress;
    void* user = o.progress_user;
    out.progress = [fn, user](const cbir::ingest::Progress& p) {
      cbir_ingest_progress_t cp{p.done, p.total, p.added, p.failed, p.seconds, p.rate, p.eta_seconds};
      return fn(user, &cp) == 0;
    };
  }
  return out;
}

cbir::store::Collection& writable(cbir_collection_t* coll) {
  cbir::capi::need(coll, "coll");
  if (!coll->impl) cbir::fail(CBIR_ECLOSED, "the collection is closed");
  return *coll->impl;
}

// The models with their spaces; the pipeline checks each against its space.
std::vector<cbir::ingest::SpaceModel> space_models(cbir::store::Collection& coll,
                                                   const cbir_space_model_t* models, size_t n) {
  if (coll.info().read_only)
    cbir::fail(CBIR_EUNSUPPORTED, "the collection at '" + coll.info().path +
                                      "' is open read-only: open it for writing to index into it");
  if (n == 0) cbir::fail(CBIR_EINVAL, "n_models must be at least 1");
  cbir::capi::need(models, "models");
  std::vector<cbir::ingest::SpaceModel> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back({&cbir::capi::model_of(models[i].model), models[i].space ? models[i].space : ""});
  return out;
}

}  // namespace

extern "C" {

void cbir_ingest_options_init(cbir_ingest_options_t* opts) {
  if (opts != nullptr) *opts = CBIR_INGEST_OPTIONS_INIT;
}

int cbir_ingest_dir(cbir_ingest_report_t** out_report, cbir_collection_t* coll,
                    const cbir_model_t* model, const char* dir, const cbir_ingest_options_t* opts) {
  const cbir_space_model_t one{nullptr, model};
  return cbir_ingest_dir_spaces(out_report, coll, &one, 1, dir, opts);
}

int cbir_ingest_files(cbir_ingest_report_t** out_report, cbir_collection_t* coll,
                      const cbir_model_t* model, const char* const* paths, size_t n,
                      const cbir_ingest_options_t* opts) {
  const cbir_space_model_t one{nullptr, model};
  return cbir_ingest_files_spaces(out_report, coll, &one, 1, paths, n, opts);
}

int cbir_ingest_dir_spaces(cbir_ingest_report_t** out_report, cbir_collection_t* coll,
                           const cbir_space_model_t* models, size_t n_models, const char* dir,
                           const cbir_ingest_options_t* opts) {
  if (out_report != nullptr) *out_report = nullptr;
  return cbir::capi::guard([&] {
    cbir::capi::need(out_report, "out_report");
    cbir::capi::need(dir, "dir");
    cbir::store::Collection& c = writable(coll);
    const auto m = space_models(c, models, n_models);
    auto report = std::make_unique<cbir_ingest_report_t>();
    report->report = cbir::ingest::ingest_dir(c, m, dir, to_options(opts));
    *out_report = report.release();
  });
}

int cbir_ingest_files_spaces(cbir_ingest_report_t** out_report, cbir_collection_t* coll,
                             const cbir_space_model_t* models, size_t n_models,
                             const char* const* paths, size_t n, const cbir_ingest_options_t* opts) {
  if (out_report != nullptr) *out_report = nullptr;
  return cbir::capi::guard([&] {
    cbir::capi::need(out_report, "out_report");
    if (n > 0) cbir::capi::need(paths, "paths");
    cbir::store::Collection& c = writable(coll);
    const auto m = space_models(c, models, n_models);
    cbir::ingest::IngestOptions o = to_options(opts);
    auto report = std::make_unique<cbir_ingest_report_t>();
    std::vector<cbir::ingest::FileFacts> files;
    std::vector<cbir::ingest::FileError> missing;
    for (size_t i = 0; i < n; ++i) {
      if (paths[i] == nullptr) cbir::fail(CBIR_EINVAL, "paths[" + std::to_string(i) + "] is NULL");
      try {
        files.push_back(cbir::ingest::stat_file(paths[i]));
      } catch (const cbir::Error& e) {
        missing.push_back({paths[i], e.code(), e.what()});
      }
    }
    report->report = cbir::ingest::ingest_files(c, m, std::move(files), o);
    cbir::ingest::Report& r = report->report;
    r.found += missing.size();
    r.failed += missing.size();
    r.errors.insert(r.errors.end(), missing.begin(), missing.end());
    *out_report = report.release();
  });
}

int cbir_ingest_report_summary(cbir_ingest_summary_t* out, const cbir_ingest_report_t* report) {
  return cbir::capi::guard([&] {
    cbir::capi::need(out, "out");
    cbir::capi::need(report, "report");
    if (out->version < sizeof(uint32_t) || out->version > sizeof(cbir_ingest_summary_t))
      cbir::fail(CBIR_EINVAL, "out->version must be sizeof(cbir_ingest_summary_t)");
    const cbir::ingest::Report& r = report->report;
    cbir_ingest_summary_t s{sizeof(cbir_ingest_summary_t), r.found, r.added, r.updated, r.unchanged,
                            r.duplicates, r.failed, r.removed, r.cancelled ? 1 : 0, r.seconds,
                            r.filled};
    uint32_t version = out->version;
    std::memcpy(out, &s, version);
    out->version = version;
  });
}

size_t cbir_ingest_report_failures(const cbir_ingest_report_t* report) {
  return report == nullptr ? 0 : report->report.errors.size();
}

int cbir_ingest_report_failure(const cbir_ingest_report_t* report, size_t index,
                               const char** out_path, int32_t* out_code, const char** out_message) {
  return cbir::capi::guard([&] {
    cbir::capi::need(report, "report");
    const auto& errors = report->report.errors;
    if (index >= errors.size())
      cbir::fail(CBIR_EINVAL, "failure index " + std::to_string(index) + " is out of range (the report has " +
                                  std::to_string(errors.size()) + ")");
    if (out_path) *out_path = errors[index].path.c_str();
    if (out_code) *out_code = errors[index].code;
    if (out_message) *out_message = errors[index].message.c_str();
  });
}

void cbir_ingest_report_free(cbir_ingest_report_t* report) { delete report; }

}  // extern "C"
