#include "ingest/pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "common/error.hpp"
#include "model/sha256.hpp"
#include "model/model.hpp"
#include "store/collection.hpp"

namespace cbir::ingest {
namespace {

using Clock = std::chrono::steady_clock;

// A file that needs looking at: new, changed since it was indexed, or unchanged but lacking a
// vector in a space being filled.
struct Job {
  FileFacts file;
  std::optional<store::ItemInfo> existing;
  bool fill_only = false;  // unchanged: encode only the spaces it lacks (need)
  bool complete = true;    // the existing item has a vector in every space
  std::vector<char> need;  // per model: encode it
};

// What a worker made of a job.
struct Prepared {
  enum Kind { encode, same_content, failed } kind = failed;
  const Job* job = nullptr;
  bool fill_only = false;
  std::vector<char> need;
  std::string hash;
  int width = 0, height = 0;
  PhotoMeta photo;            // format and EXIF facts, read with the pixels
  // encode: per model it needs, 3 x side x side normalised floats (one decode, resampled for
  // each model's recipe)
  std::vector<std::vector<float>> pixels;
  int code = 0;
  std::string message;
};

// A bounded multi-producer, single-consumer queue: workers block when it is full, so decoded
// images never pile up faster than the model consumes them.
class Queue {
 public:
  explicit Queue(size_t capacity) : capacity_(capacity) {}

  // False when the queue was closed (cancelled) and the item dropped.
  bool push(Prepared&& p) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    if (closed_) return false;
    items_.push_back(std::move(p));
    not_empty_.notify_one();
    return true;
  }
  // Empty when every producer is done (or the queue is closed) and nothing is left.
  std::optional<Prepared> pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty() || producers_ == 0 || closed_; });
    if (items_.empty() || closed_) return std::nullopt;
    Prepared p = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return p;
  }
  void producers(int n) { producers_ = n; }
  void producer_done() {
    std::lock_guard lock(mu_);
    --producers_;
    not_empty_.notify_all();
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Prepared> items_;
  size_t capacity_;
  int producers_ = 0;
  bool closed_ = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(CBIR_ENOTFOUND, "cannot open '" + path + "'");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(CBIR_EIO, "cannot read '" + path + "'");
  return data;
}

Prepared prepare(const Job& job, const std::vector<SpaceModel>& models,
                 const image::DecodeOptions& decode) {
  Prepared p;
  p.job = &job;
  p.fill_only = job.fill_only;
  p.need = job.need;
  try {
    std::string bytes = read_file(job.file.path);
    p.hash = model::sha256_hex(bytes);
    const bool same = job.existing && job.existing->content_hash == p.hash;
    if (same && !job.fill_only && job.complete) {
      p.kind = Prepared::same_content;  // touched, not changed: keep the vectors
      return p;
    }
    if (!same && job.fill_only) {  // changed under the same size and mtime: encode it whole
      p.fill_only = false;
      p.need.assign(models.size(), 1);
    }
    image::Image img = image::decode_memory(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            bytes.size(), decode, job.file.path, &p.photo);
    p.width = img.width;
    p.height = img.height;
    p.pixels.resize(models.size());
    for (size_t m = 0; m < models.size(); ++m) {
      if (!p.need[m]) continue;
      const image::Recipe& recipe = models[m].model->recipe();
      image::Image resized = image::resize_for(img, recipe);
      const int side = recipe.output_side();
      p.pixels[m].resize(static_cast<size_t>(3) * side * side);
      image::normalize_chw(resized, recipe, p.pixels[m].data());
    }
    p.kind = Prepared::encode;
  } catch (const Error& e) {
    p.kind = Prepared::failed;
    p.code = e.code();
    p.message = e.what();
  } catch (const std::bad_alloc&) {
    p.kind = Prepared::failed;
    p.code = CBIR_ENOMEM;
    p.message = "out of memory while decoding '" + job.file.path + "'";
  } catch (const std::exception& e) {
    p.kind = Prepared::failed;
    p.code = CBIR_EINTERNAL;
    p.message = "internal error on '" + job.file.path + "': " + e.what();
  }
  return p;
}

store::ItemInfo item_for(const Prepared& p) {
  store::ItemInfo item;
  if (p.job->existing) item = *p.job->existing;
  item.uri = p.job->file.path;
  item.content_hash = p.hash;
  item.size = p.job->file.size;
  item.mtime = p.job->file.mtime_ns;
  if (p.kind == Prepared::encode) {
    item.width = p.width;
    item.height = p.height;
    item.photo = p.photo;
  }
  return item;
}

// The calling thread's side: batches encodes (per model), reuses vectors of known content,
// writes an item with its vectors in every space at once, commits.
class Writer {
 public:
  Writer(store::Collection& coll, const std::vector<SpaceModel>& models, const IngestOptions& opts,
         Report& report)
      : coll_(coll), models_(models), opts_(opts), report_(report) {
    for (const SpaceModel& m : models_) dims_.push_back(static_cast<size_t>(m.model->dim()));
    batch_size_ = static_cast<size_t>(std::max(1, models_.front().model->batch_size()));
  }

  void take(Prepared&& p) {
    if (p.kind == Prepared::failed) {
      ++report_.failed;
      report_.errors.push_back({p.job->file.path, p.code, p.message});
      return;
    }
    if (p.kind == Prepared::same_content) {
      copy_vectors(p, p.job->existing->id);
      ++report_.unchanged;
      return;
    }
    if (!p.fill_only) {
      // Same content as an item indexed before, or earlier in this run, with a vector in
      // every space: reuse them.
      if (auto known = known_content(p.hash); known && copy_vectors(p, *known, /*quiet=*/true)) {
        ++report_.duplicates;
        return;
      }
      if (pending_hashes_.count(p.hash)) {  // same content is in the batch being built
        waiting_.push_back(std::move(p));
        return;
      }
      pending_hashes_.emplace(p.hash, batch_.size());
    }
    batch_.push_back(std::move(p));
    if (batch_.size() >= batch_size_) flush();
  }

  void flush() {
    if (!batch_.empty()) {
      // Each model encodes the items that need it, in one batch.
      std::vector<std::vector<float>> vecs(models_.size());
      std::vector<std::vector<size_t>> row(models_.size(), std::vector<size_t>(batch_.size()));
      for (size_t m = 0; m < models_.size(); ++m) {
        std::vector<float> pixels;
        size_t n = 0;
        for (size_t i = 0; i < batch_.size(); ++i) {
          if (!batch_[i].need[m]) continue;
          row[m][i] = n++;
          pixels.insert(pixels.end(), batch_[i].pixels[m].begin(), batch_[i].pixels[m].end());
          batch_[i].pixels[m] = {};
        }
        if (n == 0) continue;
        vecs[m].resize(n * dims_[m]);
        models_[m].model->embed_images(pixels.data(), n, vecs[m].data());
      }
      for (size_t i = 0; i < batch_.size(); ++i) {
        std::vector<const float*> v(models_.size(), nullptr);
        for (size_t m = 0; m < models_.size(); ++m)
          if (batch_[i].need[m]) v[m] = vecs[m].data() + row[m][i] * dims_[m];
        if (batch_[i].fill_only) {
          fill(batch_[i].job->existing->id, v);
          ++report_.filled;
          continue;
        }
        write(item_for(batch_[i]), v);
        if (batch_[i].job->existing)
          ++report_.updated;
        else
          ++report_.added;
      }
      batch_.clear();
      pending_hashes_.clear();
    }
    std::vector<Prepared> waiting;
    waiting.swap(waiting_);
    for (Prepared& p : waiting) take(std::move(p));
  }

  void finish() {
    flush();
    coll_.commit();
  }

 private:
  std::optional<int64_t> known_content(const std::string& hash) {
    auto it = written_hashes_.find(hash);
    if (it != written_hashes_.end()) return it->second;
    return coll_.find_content_hash(hash);
  }

  // Writes p's item with the vectors item `from` has in every space; false (quiet) or a failure
  // recorded when it lacks one.
  bool copy_vectors(const Prepared& p, int64_t from, bool quiet = false) {
    std::vector<std::vector<float>> vecs(models_.size());
    std::vector<const float*> v(models_.size());
    for (size_t m = 0; m < models_.size(); ++m) {
      vecs[m].resize(dims_[m]);
      v[m] = vecs[m].data();
      if (coll_.vector(from, vecs[m].data(), dims_[m], models_[m].space)) continue;
      if (quiet) return false;
      ++report_.failed;
      report_.errors.push_back({p.job->file.path, CBIR_EINTERNAL,
                                "item " + std::to_string(from) + " vanished while indexing"});
      return false;
    }
    store::ItemInfo item = item_for(p);
    if (!p.job->existing) {  // a new name for known content: its size is the content's
      if (auto src = coll_.get(from)) {
        item.width = src->width;
        item.height = src->height;
        item.photo = src->photo;
      }
    }
    write(item, v);
    return true;
  }

  void write(const store::ItemInfo& item, const std::vector<const float*>& v) {
    std::vector<store::SpaceVectors> others;
    for (size_t m = 1; m < models_.size(); ++m) others.push_back({models_[m].space, v[m], dims_[m]});
    std::vector<int64_t> ids = coll_.add(&item, v[0], 1, dims_[0], /*upsert=*/true, others.data(), others.size());
    written_hashes_[item.content_hash] = ids.at(0);
    counted();
  }

  // An unchanged item's vectors in the spaces it lacked.
  void fill(int64_t id, const std::vector<const float*>& v) {
    for (size_t m = 1; m < models_.size(); ++m)
      if (v[m]) coll_.set_space_vectors(models_[m].space, &id, v[m], 1, dims_[m]);
    counted();
  }

  void counted() {
    if (++since_commit_ >= opts_.commit_every) {
      coll_.commit();
      since_commit_ = 0;
    }
  }

  store::Collection& coll_;
  const std::vector<SpaceModel>& models_;
  const IngestOptions& opts_;
  Report& report_;
  std::vector<size_t> dims_;
  size_t batch_size_ = 1;
  std::vector<Prepared> batch_;
  std::unordered_map<std::string, size_t> pending_hashes_;
  std::vector<Prepared> waiting_;
  std::unordered_map<std::string, int64_t> written_hashes_;
  size_t since_commit_ = 0;
};

// Each model against the space it fills: an image tower, the space's model.
void check_models(store::Collection& coll, const std::vector<SpaceModel>& models) {
  require(!models.empty(), "no model to index with");
  const std::string first = coll.space("").name;
  for (size_t m = 0; m < models.size(); ++m) {
    require(models[m].model != nullptr, "a model must not be NULL");
    const model::Model& model = *models[m].model;
    const store::SpaceInfo space = coll.space(models[m].space);
    if (!model.has_image())
      fail(CBIR_EINVAL, "the model '" + model.bundle().name + "' has no image tower: it cannot index images");
    if ((m == 0) != (space.name == first))
      fail(CBIR_EINVAL, m == 0 ? "the first model must be for the collection's first space '" + first + "'"
                               : "the space '" + space.name + "' is given twice, or is the first one");
    for (size_t o = 0; o < m; ++o)
      if (coll.space(models[o].space).name == space.name) fail(CBIR_EINVAL, "the space '" + space.name + "' is given twice");
    if (space.dim != model.dim() || space.fingerprint != model.bundle().fingerprint)
      fail(CBIR_EMISMATCH, "the model '" + model.bundle().name + "' (" + model.bundle().fingerprint +
                               ", dim " + std::to_string(model.dim()) + ") is not the one the collection at '" +
                               coll.info().path + "' was made with for its space '" + space.name + "' (" +
                               space.fingerprint + ", dim " + std::to_string(space.dim) + ")");
  }
}

}  // namespace

Report ingest_files(store::Collection& coll, const model::Model& model,
                    std::vector<FileFacts> files, const IngestOptions& opts) {
  return ingest_files(coll, std::vector<SpaceModel>{{&model, ""}}, std::move(files), opts);
}

Report ingest_files(store::Collection& coll, const std::vector<SpaceModel>& models,
                    std::vector<FileFacts> files, const IngestOptions& opts) {
  check_models(coll, models);
  require(opts.commit_every > 0, "commit_every must be > 0");
  const auto start = Clock::now();
  Report report;
  report.found = files.size();

  // Triage on this thread: unchanged files (same size and mtime) need no reading at all, unless
  // their item lacks a vector in a space given (then only those spaces are encoded).
  std::vector<std::vector<int64_t>> have(models.size());
  for (size_t m = 1; m < models.size(); ++m) have[m] = coll.space_ids(models[m].space);
  std::vector<Job> jobs;
  for (FileFacts& f : files) {
    std::optional<store::ItemInfo> existing;
    if (auto id = coll.find_uri(f.path)) existing = coll.get(*id);
    Job job;
    job.need.assign(models.size(), 1);
    for (size_t m = 1; existing && m < models.size(); ++m) {
      job.need[m] = !std::binary_search(have[m].begin(), have[m].end(), existing->id);
      if (job.need[m]) job.complete = false;
    }
    if (existing && existing->size == f.size && existing->mtime == f.mtime_ns) {
      if (job.complete) {
        ++report.unchanged;
        continue;
      }
      job.fill_only = true;
      job.need[0] = 0;
    } else {
      job.need.assign(models.size(), 1);
    }
    job.file = std::move(f);
    job.existing = std::move(existing);
    jobs.push_back(std::move(job));
  }

  image::DecodeOptions decode = opts.decode;
  if (opts.fast_decode) {  // shrunk while decoding no smaller than any model needs
    const model::Model* largest = models.front().model;
    for (const SpaceModel& m : models)
      if (m.model->recipe().size > largest->recipe().size) largest = m.model;
    decode = image::fast_options_for(largest->recipe(), decode);
  }
  const model::Model& model = *models.front().model;
  int workers = opts.workers > 0 ? opts.workers
                                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  workers = std::max(1, std::min<int>(workers, static_cast<int>(jobs.size())));

  Queue queue(static_cast<size_t>(2 * std::max(1, model.batch_size())));
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  if (!jobs.empty()) {
    queue.producers(workers);
    for (int w = 0; w < workers; ++w) {
      pool.emplace_back([&] {
        for (size_t i; (i = next.fetch_add(1)) < jobs.size();)
          if (!queue.push(prepare(jobs[i], models, decode))) break;
        queue.producer_done();
      });
    }
  }

  Writer writer(coll, models, opts, report);
  auto report_progress = [&] {
    if (!opts.progress) return true;
    Progress p;
    p.total = report.found;
    p.added = report.added;
    p.failed = report.failed;
    p.done = report.added + report.updated + report.unchanged + report.duplicates + report.filled +
             report.failed;
    p.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    p.rate = p.seconds > 0 ? static_cast<double>(p.done) / p.seconds : 0;
    if (p.rate > 0) p.eta_seconds = static_cast<double>(p.total - p.done) / p.rate;
    return opts.progress(p);
  };

  // Whatever happens on this thread, the workers are stopped and joined before returning.
  struct Joiner {
    Queue& q;
    std::vector<std::thread>& pool;
    ~Joiner() {
      q.close();
      for (auto& t : pool) t.join();
    }
  } joiner{queue, pool};

  size_t seen = 0;
  while (!jobs.empty()) {
    std::optional<Prepared> p = queue.pop();
    if (!p) break;
    writer.take(std::move(*p));
    if (++seen % std::max(1, model.batch_size()) == 0 && !report_progress()) {
      report.cancelled = true;
      queue.close();
      break;
    }
  }
  writer.finish();
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!report.cancelled && !report_progress()) report.cancelled = true;
  return report;
}

Report ingest_dir(store::Collection& coll, const model::Model& model, const std::string& dir,
                  const IngestOptions& opts) {
  return ingest_dir(coll, std::vector<SpaceModel>{{&model, ""}}, dir, opts);
}

Report ingest_dir(store::Collection& coll, const std::vector<SpaceModel>& models,
                  const std::string& dir, const IngestOptions& opts) {
  std::vector<FileError> walk_errors;
  std::vector<FileFacts> files = walk(dir, opts.walk, [&](const std::string& path, const std::string& msg) {
    walk_errors.push_back({path, CBIR_EIO, msg});
  });

  // With prune: items under this folder whose files no longer exist. (Existence, not "found by
  // this walk", so files outside today's extension filter are not pruned.)
  std::vector<int64_t> gone;
  if (opts.prune) {
    for (int64_t id : coll.ids_with_uri_prefix(folder_prefix(dir))) {
      auto item = coll.get(id);
      std::error_code ec;
      if (item && !std::filesystem::exists(item->uri, ec) && !ec) gone.push_back(id);
    }
  }

  Report report = ingest_files(coll, models, std::move(files), opts);
  if (!gone.empty() && !report.cancelled) {
    report.removed = coll.remove(gone.data(), gone.size());
    coll.commit();
  }
  report.errors.insert(report.errors.begin(), walk_errors.begin(), walk_errors.end());
  report.failed += walk_errors.size();
  return report;
}

}  // namespace cbir::ingest
