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

// A file that needs looking at: new, or changed since it was indexed.
struct Job {
  FileFacts file;
  std::optional<store::ItemInfo> existing;
};

// What a worker made of a job.
struct Prepared {
  enum Kind { encode, same_content, failed } kind = failed;
  const Job* job = nullptr;
  std::string hash;
  int width = 0, height = 0;
  PhotoMeta photo;            // format and EXIF facts, read with the pixels
  std::vector<float> pixels;  // encode: 3 x side x side, normalised
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

Prepared prepare(const Job& job, const model::Model& model, const image::DecodeOptions& decode) {
  Prepared p;
  p.job = &job;
  try {
    std::string bytes = read_file(job.file.path);
    p.hash = model::sha256_hex(bytes);
    if (job.existing && job.existing->content_hash == p.hash) {
      p.kind = Prepared::same_content;  // touched, not changed: keep the vector
      return p;
    }
    image::Image img = image::decode_memory(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            bytes.size(), decode, job.file.path, &p.photo);
    p.width = img.width;
    p.height = img.height;
    const image::Recipe& recipe = model.recipe();
    image::Image resized = image::resize_for(img, recipe);
    int side = recipe.output_side();
    p.pixels.resize(static_cast<size_t>(3) * side * side);
    image::normalize_chw(resized, recipe, p.pixels.data());
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

// The calling thread's side: batches encodes, reuses vectors of known content, writes, commits.
class Writer {
 public:
  Writer(store::Collection& coll, const model::Model& model, const IngestOptions& opts,
         Report& report)
      : coll_(coll), model_(model), opts_(opts), report_(report), dim_(model.dim()) {}

  void take(Prepared&& p) {
    if (p.kind == Prepared::failed) {
      ++report_.failed;
      report_.errors.push_back({p.job->file.path, p.code, p.message});
      return;
    }
    if (p.kind == Prepared::same_content) {
      copy_vector(p, p.job->existing->id);
      ++report_.unchanged;
      return;
    }
    // Same content as an item indexed before, or earlier in this run: reuse its vector.
    if (auto known = known_content(p.hash)) {
      copy_vector(p, *known);
      ++report_.duplicates;
      return;
    }
    if (pending_hashes_.count(p.hash)) {  // same content is in the batch being built
      waiting_.push_back(std::move(p));
      return;
    }
    pending_hashes_.emplace(p.hash, batch_.size());
    batch_.push_back(std::move(p));
    if (batch_.size() >= static_cast<size_t>(model_.batch_size())) flush();
  }

  void flush() {
    if (!batch_.empty()) {
      int side = model_.image_side();
      size_t per = static_cast<size_t>(3) * side * side;
      std::vector<float> pixels(batch_.size() * per);
      for (size_t i = 0; i < batch_.size(); ++i)
        std::copy(batch_[i].pixels.begin(), batch_[i].pixels.end(), pixels.begin() + i * per);
      std::vector<float> vecs(batch_.size() * dim_);
      model_.embed_images(pixels.data(), batch_.size(), vecs.data());
      for (size_t i = 0; i < batch_.size(); ++i) {
        write(item_for(batch_[i]), vecs.data() + i * dim_);
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

  void copy_vector(const Prepared& p, int64_t from) {
    std::vector<float> vec(dim_);
    if (!coll_.vector(from, vec.data(), dim_)) {
      ++report_.failed;
      report_.errors.push_back({p.job->file.path, CBIR_EINTERNAL,
                                "item " + std::to_string(from) + " vanished while indexing"});
      return;
    }
    store::ItemInfo item = item_for(p);
    if (!p.job->existing) {  // a new name for known content: its size is the content's
      if (auto src = coll_.get(from)) {
        item.width = src->width;
        item.height = src->height;
        item.photo = src->photo;
      }
    }
    write(item, vec.data());
  }

  void write(const store::ItemInfo& item, const float* vec) {
    std::vector<int64_t> ids = coll_.add(&item, vec, 1, dim_, /*upsert=*/true);
    written_hashes_[item.content_hash] = ids.at(0);
    if (++since_commit_ >= opts_.commit_every) {
      coll_.commit();
      since_commit_ = 0;
    }
  }

  store::Collection& coll_;
  const model::Model& model_;
  const IngestOptions& opts_;
  Report& report_;
  size_t dim_;
  std::vector<Prepared> batch_;
  std::unordered_map<std::string, size_t> pending_hashes_;
  std::vector<Prepared> waiting_;
  std::unordered_map<std::string, int64_t> written_hashes_;
  size_t since_commit_ = 0;
};

}  // namespace

Report ingest_files(store::Collection& coll, const model::Model& model,
                    std::vector<FileFacts> files, const IngestOptions& opts) {
  require(model.has_image(), "the model has no image tower: it cannot index images");
  require(opts.commit_every > 0, "commit_every must be > 0");
  const auto start = Clock::now();
  Report report;
  report.found = files.size();

  // Triage on this thread: unchanged files (same size and mtime) need no reading at all.
  std::vector<Job> jobs;
  for (FileFacts& f : files) {
    std::optional<store::ItemInfo> existing;
    if (auto id = coll.find_uri(f.path)) existing = coll.get(*id);
    if (existing && existing->size == f.size && existing->mtime == f.mtime_ns) {
      ++report.unchanged;
      continue;
    }
    jobs.push_back({std::move(f), std::move(existing)});
  }

  image::DecodeOptions decode = opts.decode;
  if (opts.fast_decode) decode = image::fast_options_for(model.recipe(), decode);
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
          if (!queue.push(prepare(jobs[i], model, decode))) break;
        queue.producer_done();
      });
    }
  }

  Writer writer(coll, model, opts, report);
  auto report_progress = [&] {
    if (!opts.progress) return true;
    Progress p;
    p.total = report.found;
    p.added = report.added;
    p.failed = report.failed;
    p.done = report.added + report.updated + report.unchanged + report.duplicates + report.failed;
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

  Report report = ingest_files(coll, model, std::move(files), opts);
  if (!gone.empty() && !report.cancelled) {
    report.removed = coll.remove(gone.data(), gone.size());
    coll.commit();
  }
  report.errors.insert(report.errors.begin(), walk_errors.begin(), walk_errors.end());
  report.failed += walk_errors.size();
  return report;
}

}  // namespace cbir::ingest
