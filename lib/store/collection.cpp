#include "store/collection.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include "common/error.hpp"
#include "common/log.hpp"
#include "store/create_collection.hpp"
#include "store/flat_scan.hpp"
#include "store/snapshot.hpp"
#include "store/vectors.hpp"
#include "store/writer_lock.hpp"
#include "text/utf8.hpp"

namespace cbir::store {

namespace fs = std::filesystem;

namespace {

constexpr size_t kScanChunk = 65536;
constexpr size_t kApplyChunk = 65536;
// A filter that leaves at most this many items is searched exactly on their stored vectors:
// an ANN index would walk its graph or lists looking for them and may return fewer than k.
constexpr size_t kExactFilterMax = 2048;

void check_utf8(const std::string& s, const std::string& what) {
  std::vector<char32_t> cps;
  text::Utf8Problem problem;
  if (!text::decode_utf8(s, cps, problem))
    fail(CBIR_EINVAL, what + " is not valid UTF-8 (" + problem.reason + " at byte " +
                          std::to_string(problem.offset) + ")");
}

void check_item(const ItemInfo& item, size_t i) {
  const std::string where = "item " + std::to_string(i);
  if (item.uri.empty()) fail(CBIR_EINVAL, where + ": uri must not be empty");
  check_utf8(item.uri, where + ": uri");
  check_utf8(item.content_hash, where + ": content_hash");
  check_utf8(item.payload, where + ": payload");
  if (item.size < 0 || item.width < 0 || item.height < 0)
    fail(CBIR_EINVAL, where + " (" + item.uri + "): size, width and height must not be negative");
}

}  // namespace

Collection::Collection(const std::string& dir, const OpenOptions& opts)
    : dir_(dir),
      writer_(!opts.read_only),
      memory_budget_(opts.memory_budget ? opts.memory_budget : default_memory_budget()) {
  require(!dir.empty(), "path must not be empty");
  const std::string catalog_path = dir_ + "/" + Catalog::kFileName;
  std::error_code ec;
  bool creating = opts.create && writer_ && !fs::exists(catalog_path, ec);
  // Check what a new collection needs before anything is made on disk.
  const CatalogMeta fresh = creating ? new_collection_meta(opts) : CatalogMeta{};
  if (!fs::is_directory(dir_, ec)) {
    if (fs::exists(dir_, ec))
      fail(CBIR_EINVAL, dir_ + " is not a folder; a collection is a folder");
    if (!creating)
      fail(CBIR_ENOTFOUND, "there is no collection at " + dir_ +
                               " (open it with CBIR_OPEN_CREATE to create one)");
    // Whole or not at all (create_collection.hpp); then it is opened like any other, which
    // also checks the settings of one that another process made first.
    create_collection_folder(dir_, fresh);
    creating = false;
  }
  if (writer_) {
    lock_ = std::make_unique<WriterLock>(dir_);
    // Left by saves that a crash interrupted (index.snap.tmp, index.<space>.snap.tmp).
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("index.", 0) == 0 && name.size() > 9 && name.compare(name.size() - 9, 9, ".snap.tmp") == 0)
        fs::remove(entry.path(), ec);
    }
  }
  if (!creating && !fs::exists(catalog_path, ec))
    fail(CBIR_ENOTFOUND, "there is no collection at " + dir_ + " (no " + Catalog::kFileName +
                             "; open it with CBIR_OPEN_CREATE to create one)");
  catalog_ = std::make_unique<Catalog>(catalog_path, writer_, creating);
  if (writer_ && catalog_->empty()) {
    // New, or left empty by a creation that was interrupted.
    if (!opts.create)
      fail(CBIR_ECORRUPT, "the collection catalog " + catalog_path +
                              " holds no collection; open it with CBIR_OPEN_CREATE to set it up");
    std::lock_guard db(db_mu_);
    catalog_->initialize(creating ? fresh : new_collection_meta(opts));
  }

  std::lock_guard db(db_mu_);
  {
    // Refuse another model before any work on the index.
    const CatalogMeta m = catalog_->read_meta();
    if (opts.dim != 0 && opts.dim != m.dim)
      fail(CBIR_EMISMATCH, "the collection " + dir_ + " holds " + std::to_string(m.dim) +
                               "-dimensional vectors, not " + std::to_string(opts.dim) +
                               "; it was made with another model");
    if (opts.fingerprint && *opts.fingerprint != m.fingerprint)
      fail(CBIR_EMISMATCH, "the collection " + dir_ + " was made with the model '" +
                               m.fingerprint + "', not '" + *opts.fingerprint +
                               "'; use that model, or index into a new collection");
  }
  Loaded l = load_index_locked();
  spaces_ = std::move(l.spaces);
  dim_ = spaces_.front()->dim;
  fingerprint_ = spaces_.front()->fingerprint;
  seq_ = index_seq_ = l.seq;
  for (auto& space : spaces_) {
    if (!writer_ || space->snapshot_seq >= 0 || space->index->size() == 0) continue;
    // It was rebuilt from the catalog: keep the work for the next open.
    try {
      write_snapshot_of(*space, *space->index, seq_, space->generation);
      space->snapshot_seq = seq_;
    } catch (const Error& e) {
      log(CBIR_LOG_WARN, std::string("cbir: cannot save the rebuilt index: ") + e.what());
    }
  }
}

Collection::~Collection() {
  if (!writer_ || closed_) return;
  try {
    close();
  } catch (const std::exception& e) {
    log(CBIR_LOG_ERROR, "cbir: closing the collection " + dir_ + " failed: " + e.what());
  }
}

void Collection::close() {
  if (!writer_) return;
  std::lock_guard w(write_mu_);
  if (closed_) return;
  save_locked();
  closed_ = true;
}

CatalogMeta Collection::new_collection_meta(const OpenOptions& opts) const {
  if (opts.dim <= 0 || opts.dim > 65536)
    fail(CBIR_EINVAL, "dim must be in [1, 65536] to create a collection (the model's embedding size)");
  if (!opts.fingerprint || opts.fingerprint->empty())
    fail(CBIR_EINVAL, "fingerprint is required to create a collection (the model's, so that "
                      "vectors of another model are refused later)");
  check_utf8(*opts.fingerprint, "fingerprint");
  IndexSpec spec = IndexSpec::parse(opts.index_spec.empty() ? "auto" : opts.index_spec);
  // Refuses specs that cannot exist while the collection is empty (IVF needs training data).
  try {
    VectorIndex probe(spec.resolve(0, static_cast<size_t>(opts.dim), memory_budget_),
                      static_cast<size_t>(opts.dim), nullptr, 0);
  } catch (const Error& e) {
    if (e.code() != CBIR_EINVAL) throw;
    fail(CBIR_EINVAL, std::string(e.what()) +
                          ". Create the collection with 'flat', 'hnsw' or 'auto', add the vectors, "
                          "then rebuild it with this spec");
  }
  if (!opts.space.empty()) check_space_name(opts.space);
  CatalogMeta meta;
  meta.dim = opts.dim;
  meta.fingerprint = *opts.fingerprint;
  meta.index_spec = spec.str();
  meta.space = opts.space;
  return meta;
}

// ---- loading -----------------------------------------------------------------------------

Collection::Loaded Collection::load_index_locked() {
  // One read transaction: the settings, the snapshots' checks and the replays see one state.
  Catalog::ReadTxn txn(*catalog_);
  const CatalogMeta m = catalog_->read_meta();
  Loaded out;
  out.seq = m.seq;
  auto add = [&](const std::string& name, bool is_first, int32_t dim, const std::string& fingerprint,
                 const std::string& spec, int64_t generation) {
    auto space = std::make_unique<Space>();
    space->name = name;
    space->first = is_first;
    space->dim = dim;
    space->fingerprint = fingerprint;
    space->generation = generation;
    try {
      space->spec = IndexSpec::parse(spec);
    } catch (const Error& e) {
      fail(CBIR_ECORRUPT, "the collection catalog " + catalog_->path() + " holds an unreadable index spec for the space '" + name + "': " + e.what());
    }
    out.spaces.push_back(std::move(space));
  };
  add(m.space, true, m.dim, m.fingerprint, m.index_spec, m.generation);
  for (const SpaceMeta& sm : catalog_->spaces())
    add(sm.name, false, sm.dim, sm.fingerprint, sm.index_spec, sm.generation);
  for (auto& space : out.spaces) load_space_locked(*space, m.seq);
  return out;
}

void Collection::load_space_locked(Space& space, int64_t seq) {
  const size_t dim = static_cast<size_t>(space.dim);
  SnapshotInfo info;
  std::string problem;
  const bool loaded = read_snapshot(
      snapshot_path(space), info,
      [&](SnapshotSource& src) {
        if (info.dim != static_cast<uint32_t>(space.dim)) fail(CBIR_ECORRUPT, "it has another dimension");
        if (info.generation != space.generation || info.watermark > seq)
          fail(CBIR_ECORRUPT, "it is not of the catalog's current index (an interrupted rebuild?)");
        space.index = std::make_unique<VectorIndex>(src, IndexSpec::parse(info.spec), dim);
      },
      problem);
  if (loaded) {
    apply(*space.index, read_delta_locked(space, info.watermark));
    space.snapshot_seq = info.watermark;
    return;
  }
  space.index.reset();
  space.snapshot_seq = -1;
  const int64_t n = space.first ? catalog_->count() : catalog_->space_count(space.name);
  if (n > 0)
    log(CBIR_LOG_WARN, "cbir: rebuilding the index of " + dir_ + (space.first ? "" : " (space '" + space.name + "')") +
                           " from its catalog: " + problem);
  std::vector<int64_t> ids;
  std::vector<float> vectors;
  read_all_locked(space, ids, vectors);
  space.index = build_index(space.spec, dim, ids, vectors, /*fall_back=*/true);
}

std::string Collection::snapshot_path(const Space& space) const {
  return dir_ + "/" + (space.first ? std::string(kSnapshotName) : "index." + space.name + ".snap");
}

Collection::Delta Collection::read_delta_locked(const Space& space, int64_t after_seq) {
  Delta d;
  const size_t dim = static_cast<size_t>(space.dim);
  auto upserted = [&](int64_t id, const float* v) {
    d.ids.push_back(id);
    d.vectors.insert(d.vectors.end(), v, v + dim);
  };
  auto removed = [&](int64_t id) { d.removed.push_back(id); };
  if (space.first) catalog_->changes_after(after_seq, dim, upserted, removed);
  else catalog_->space_changes_after(space.name, after_seq, dim, upserted, removed);
  return d;
}

void Collection::apply(VectorIndex& index, const Delta& d) {
  index.remove(d.removed.data(), d.removed.size());
  const size_t dim = index.dim();
  for (size_t i = 0; i < d.ids.size(); i += kApplyChunk) {
    const size_t n = std::min(kApplyChunk, d.ids.size() - i);
    index.upsert(d.ids.data() + i, d.vectors.data() + i * dim, n);
  }
}

void Collection::read_all_locked(const Space& space, std::vector<int64_t>& ids,
                                 std::vector<float>& vectors) {
  const size_t dim = static_cast<size_t>(space.dim);
  const auto n = static_cast<size_t>(space.first ? catalog_->count() : catalog_->space_count(space.name));
  ids.clear();
  vectors.clear();
  ids.reserve(n);
  vectors.reserve(n * dim);
  auto take = [&](const int64_t* i, const float* v, size_t c) {
    ids.insert(ids.end(), i, i + c);
    vectors.insert(vectors.end(), v, v + c * dim);
  };
  if (space.first) catalog_->scan_vectors(dim, kScanChunk, take);
  else catalog_->scan_space_vectors(space.name, dim, kScanChunk, take);
}

std::unique_ptr<VectorIndex> Collection::build_index(const IndexSpec& spec, size_t dim,
                                                     const std::vector<int64_t>& ids,
                                                     const std::vector<float>& vectors,
                                                     bool fall_back) {
  const size_t n = ids.size();
  const IndexSpec concrete = spec.resolve(n, dim, memory_budget_);
  // Training sees an evenly spread sample: enough for k-means, bounded in time.
  const size_t cap = std::max<size_t>(100000, 64 * static_cast<size_t>(std::max(concrete.nlist, 1)));
  std::vector<float> sample;
  const float* train = vectors.data();
  size_t ntrain = n;
  if (n > cap) {
    sample.resize(cap * dim);
    for (size_t j = 0; j < cap; ++j)
      std::copy_n(vectors.data() + (j * n / cap) * dim, dim, sample.data() + j * dim);
    train = sample.data();
    ntrain = cap;
  }
  std::unique_ptr<VectorIndex> index;
  try {
    index = std::make_unique<VectorIndex>(concrete, dim, train, ntrain);
  } catch (const Error& e) {
    if (!fall_back || e.code() != CBIR_EINVAL) throw;
    log(CBIR_LOG_WARN, std::string("cbir: ") + e.what() + "; searching exactly (flat) until a rebuild");
    index = std::make_unique<VectorIndex>(IndexSpec{}, dim, nullptr, 0);
  }
  for (size_t i = 0; i < n; i += kApplyChunk * 4) {
    const size_t c = std::min(kApplyChunk * 4, n - i);
    index->upsert(ids.data() + i, vectors.data() + i * dim, c);
  }
  return index;
}

void Collection::write_snapshot_of(const Space& space, const VectorIndex& index, int64_t seq,
                                   int64_t generation) {
  SnapshotInfo info;
  info.dim = static_cast<uint32_t>(space.dim);
  info.watermark = seq;
  info.generation = generation;
  info.spec = index.spec().str();
  write_snapshot(snapshot_path(space), info, [&](SnapshotSink& sink) { index.save(sink); });
}

// ---- writes ------------------------------------------------------------------------------

void Collection::require_writer(const char* what) const {
  if (!writer_)
    fail(CBIR_EINVAL, std::string("cannot ") + what + ": the collection " + dir_ +
                          " is open read-only");
}

void Collection::check_dim(const Space& space, size_t dim, const char* what) const {
  if (dim != static_cast<size_t>(space.dim))
    fail(CBIR_EMISMATCH, std::string(what) + " have dimension " + std::to_string(dim) +
                             " but the collection " + dir_ +
                             (space.first ? "" : " holds in its space '" + space.name + "'") +
                             (space.first ? " holds " : " ") + std::to_string(space.dim) +
                             "-dimensional vectors (model '" + space.fingerprint + "')");
}

std::vector<int64_t> Collection::add(const ItemInfo* items, const float* vectors, size_t n,
                                     size_t dim, bool upsert, const SpaceVectors* extra,
                                     size_t n_extra) {
  require_writer("add items");
  require(n_extra == 0 || extra != nullptr, "extra must not be NULL when n_extra > 0");
  for (size_t i = 0; i < n; ++i) check_item(items[i], i);
  std::lock_guard w(write_mu_);  // the set of spaces changes only under it
  check_dim(*spaces_.front(), dim, "the vectors");
  // Each other space: given once or not at all, its vectors normalized like the first's.
  std::vector<Space*> given(n_extra);
  std::vector<std::vector<float>> extra_unit(n_extra);
  for (size_t e = 0; e < n_extra; ++e) {
    given[e] = &space_named(extra[e].space);
    if (given[e]->first)
      fail(CBIR_EINVAL, "the space '" + extra[e].space + "' is the collection's first: its vectors are `vectors`, not an extra");
    if (std::count(given.begin(), given.begin() + e, given[e]) > 0)
      fail(CBIR_EINVAL, "the space '" + extra[e].space + "' is given twice");
    check_dim(*given[e], extra[e].dim, "the vectors");
    require(n == 0 || extra[e].vectors != nullptr, "the vectors of a space must not be NULL");
    normalized_copy(extra[e].vectors, n, extra[e].dim, extra_unit[e], "vector");
  }
  // A buffer kept across calls: fresh pages cost more than the normalization on some VMs.
  std::vector<float>& unit = add_buffer_;
  normalized_copy(vectors, n, dim, unit, "vector");
  std::lock_guard db(db_mu_);
  std::vector<int64_t> ids(n);
  if (n == 0) return ids;
  std::vector<int64_t> rewritten;  // items written again: they leave the spaces not given
  const int64_t seq0 = seq_;
  catalog_->begin_write();
  catalog_->savepoint();
  try {
    for (size_t i = 0; i < n; ++i) {
      const int64_t seq = ++seq_;
      std::optional<int64_t> existing;
      if (upsert) existing = catalog_->find_uri(items[i].uri);
      if (existing) {
        catalog_->update(*existing, items[i], unit.data() + i * dim, dim, seq);
        rewritten.push_back(*existing);
      }
      ids[i] = existing ? *existing : catalog_->insert(items[i], unit.data() + i * dim, dim, seq);
      for (size_t e = 0; e < n_extra; ++e)
        catalog_->write_space_vector(given[e]->name, ids[i], extra_unit[e].data() + i * extra[e].dim,
                                     extra[e].dim, seq);
    }
    catalog_->set_seq(seq_);
  } catch (...) {
    catalog_->rollback_to();
    seq_ = seq0;
    throw;
  }
  try {
    std::unique_lock ix(index_mu_);
    index_of(*spaces_.front()).upsert(ids.data(), unit.data(), n);
    for (auto& space : spaces_) {
      if (space->first) continue;
      const auto at = std::find(given.begin(), given.end(), space.get());
      if (at != given.end())
        index_of(*space).upsert(ids.data(), extra_unit[static_cast<size_t>(at - given.begin())].data(), n);
      else if (!rewritten.empty())
        index_of(*space).remove(rewritten.data(), rewritten.size());
    }
    index_seq_ = seq_;
  } catch (...) {
    catalog_->rollback_to();
    seq_ = seq0;
    restore_after_failure();
    throw;
  }
  catalog_->release();
  return ids;
}

size_t Collection::remove(const int64_t* ids, size_t n) {
  require_writer("remove items");
  std::lock_guard w(write_mu_);
  std::lock_guard db(db_mu_);
  if (n == 0) return 0;
  const int64_t seq0 = seq_;
  std::vector<int64_t> removed;
  catalog_->begin_write();
  catalog_->savepoint();
  try {
    for (size_t i = 0; i < n; ++i)
      if (catalog_->remove(ids[i], seq_ + 1)) {
        ++seq_;
        removed.push_back(ids[i]);
      }
    catalog_->set_seq(seq_);
  } catch (...) {
    catalog_->rollback_to();
    seq_ = seq0;
    throw;
  }
  try {
    std::unique_lock ix(index_mu_);
    for (auto& space : spaces_) index_of(*space).remove(removed.data(), removed.size());
    index_seq_ = seq_;
  } catch (...) {
    catalog_->rollback_to();
    seq_ = seq0;
    restore_after_failure();
    throw;
  }
  catalog_->release();
  return removed.size();
}

bool Collection::remove_uri(const std::string& uri) {
  require_writer("remove items");
  std::optional<int64_t> id = find_uri(uri);
  return id && remove(&*id, 1) == 1;
}

VectorIndex& Collection::index_of(const Space& space) const {
  if (!space.index)
    fail(CBIR_EIO, "the index of " + dir_ + (space.first ? "" : " (space '" + space.name + "')") +
                       " is unavailable after a failed write; reopen the collection");
  return *space.index;
}

void Collection::adopt(Loaded&& loaded) {
  // In place: a Space is never moved or removed, so pointers to them stay valid.
  for (auto& fresh : loaded.spaces) {
    auto same = std::find_if(spaces_.begin(), spaces_.end(),
                             [&](const auto& s) { return s->name == fresh->name; });
    if (same == spaces_.end()) {
      spaces_.push_back(std::move(fresh));
      continue;
    }
    Space& s = **same;
    s.spec = fresh->spec;
    s.generation = fresh->generation;
    s.index = std::move(fresh->index);
    s.snapshot_seq = fresh->snapshot_seq;
  }
  index_seq_ = loaded.seq;
}

void Collection::restore_after_failure() {
  // The catalog was rolled back; bring the indexes back to it (db_mu_ and write_mu_ are held).
  Loaded restored;
  try {
    restored = load_index_locked();
  } catch (const std::exception& e) {
    log(CBIR_LOG_ERROR, "cbir: the index of " + dir_ + " could not be restored after a failed write: " + e.what());
  }
  std::unique_lock ix(index_mu_);
  if (restored.spaces.empty())
    for (auto& space : spaces_) space->index.reset();
  adopt(std::move(restored));
  index_seq_ = seq_;
}

void Collection::commit_locked() {
  std::lock_guard db(db_mu_);
  catalog_->commit();
}

void Collection::commit() {
  require_writer("commit");
  std::lock_guard w(write_mu_);
  commit_locked();
}

void Collection::save_locked() {
  commit_locked();
  std::shared_lock ix(index_mu_);
  for (auto& space : spaces_) {
    if (space->snapshot_seq == seq_ || !space->index) continue;  // current on disk, or none
    write_snapshot_of(*space, *space->index, seq_, space->generation);
    space->snapshot_seq = seq_;
  }
}

void Collection::save() {
  require_writer("save");
  std::lock_guard w(write_mu_);
  save_locked();
}

void Collection::reload_locked() {
  Loaded l;
  {
    std::lock_guard db(db_mu_);
    l = load_index_locked();
  }
  std::unique_lock ix(index_mu_);
  adopt(std::move(l));
}

void Collection::refresh() {
  if (writer_) return;  // a writer's index is always current
  std::lock_guard w(write_mu_);
  std::vector<Delta> deltas;
  int64_t seq = 0;
  {
    std::lock_guard db(db_mu_);
    Catalog::ReadTxn txn(*catalog_);
    const CatalogMeta m = catalog_->read_meta();
    const std::vector<SpaceMeta> others = catalog_->spaces();
    std::shared_lock ix(index_mu_);
    // Rebuilt or compacted elsewhere, or a space added: load it whole.
    bool same = others.size() + 1 == spaces_.size();
    for (auto& space : spaces_) {
      const auto meta = std::find_if(others.begin(), others.end(),
                                     [&](const SpaceMeta& o) { return o.name == space->name; });
      const int64_t generation = space->first ? m.generation : meta != others.end() ? meta->generation : -1;
      same = same && space->index && space->generation == generation;
    }
    if (!same) {
      seq = -1;
    } else {
      if (m.seq == index_seq_) return;
      for (auto& space : spaces_) deltas.push_back(read_delta_locked(*space, index_seq_));
      seq = m.seq;
    }
  }
  if (seq < 0) return reload_locked();
  std::unique_lock ix(index_mu_);
  for (size_t i = 0; i < deltas.size(); ++i) apply(*spaces_[i]->index, deltas[i]);
  index_seq_ = seq;
}

void Collection::rebuild(const std::string& spec_text, const std::string& space_name) {
  require_writer("rebuild the index");
  std::lock_guard w(write_mu_);
  Space& space = space_named(space_name);
  const IndexSpec next = spec_text.empty() ? space.spec : IndexSpec::parse(spec_text);
  commit_locked();
  std::vector<int64_t> ids;
  std::vector<float> vectors;
  {
    std::lock_guard db(db_mu_);
    read_all_locked(space, ids, vectors);
  }
  std::unique_ptr<VectorIndex> index =
      build_index(next, static_cast<size_t>(space.dim), ids, vectors, /*fall_back=*/false);
  ids = {};
  vectors = {};
  // Snapshot first, then the catalog: a crash in between leaves a snapshot of a generation the
  // catalog does not have, which the next open rebuilds from the catalog with the old spec.
  const int64_t generation = space.generation + 1;
  space.snapshot_seq = -1;
  write_snapshot_of(space, *index, seq_, generation);
  {
    std::lock_guard db(db_mu_);
    catalog_->begin_write();
    if (space.first) catalog_->set_index_spec(next.str(), generation);
    else catalog_->set_space_index(space.name, next.str(), generation);
    catalog_->commit();
  }
  std::unique_lock ix(index_mu_);
  space.index = std::move(index);
  space.spec = next;
  space.generation = generation;
  space.snapshot_seq = seq_;
}

void Collection::compact() {
  require_writer("compact");
  std::lock_guard w(write_mu_);
  commit_locked();
  // Every space, since the removals they replay are forgotten below.
  std::vector<std::unique_ptr<VectorIndex>> fresh;
  for (auto& space : spaces_) {
    std::unique_ptr<VectorIndex> index;
    {
      std::shared_lock ix(index_mu_);
      index = index_of(*space).empty_copy();
    }
    std::vector<int64_t> ids;
    std::vector<float> vectors;
    {
      std::lock_guard db(db_mu_);
      read_all_locked(*space, ids, vectors);
    }
    const size_t dim = static_cast<size_t>(space->dim);
    for (size_t i = 0; i < ids.size(); i += kApplyChunk * 4) {
      const size_t c = std::min(kApplyChunk * 4, ids.size() - i);
      index->upsert(ids.data() + i, vectors.data() + i * dim, c);
    }
    space->snapshot_seq = -1;
    write_snapshot_of(*space, *index, seq_, space->generation + 1);
    fresh.push_back(std::move(index));
  }
  {
    std::lock_guard db(db_mu_);
    catalog_->begin_write();
    catalog_->prune_removed(seq_);
    for (auto& space : spaces_) {
      if (space->first) catalog_->set_index_spec(space->spec.str(), space->generation + 1);
      else catalog_->set_space_index(space->name, space->spec.str(), space->generation + 1);
    }
    catalog_->commit();
    catalog_->checkpoint();
  }
  std::unique_lock ix(index_mu_);
  for (size_t i = 0; i < spaces_.size(); ++i) {
    Space& space = *spaces_[i];
    space.index = std::move(fresh[i]);
    space.generation += 1;
    space.snapshot_seq = seq_;
  }
}

// ---- reads -------------------------------------------------------------------------------

std::optional<ItemInfo> Collection::get(int64_t id) {
  std::lock_guard db(db_mu_);
  return catalog_->get(id);
}

std::optional<int64_t> Collection::find_uri(const std::string& uri) {
  std::lock_guard db(db_mu_);
  return catalog_->find_uri(uri);
}

std::optional<int64_t> Collection::find_content_hash(const std::string& hash) {
  std::lock_guard db(db_mu_);
  return catalog_->find_content_hash(hash);
}

std::vector<int64_t> Collection::ids_with_uri_prefix(const std::string& prefix) {
  std::lock_guard db(db_mu_);
  return catalog_->ids_with_uri_prefix(prefix);
}

bool Collection::vector(int64_t id, float* out, size_t dim, const std::string& space_name) {
  const Space& space = locked_space(space_name);
  check_dim(space, dim, "the output buffer's vectors");
  std::lock_guard db(db_mu_);
  return space.first ? catalog_->vector(id, out, dim) : catalog_->space_vector(space.name, id, out, dim);
}

std::vector<int64_t> Collection::ids_after(int64_t after_id, size_t limit) {
  std::lock_guard db(db_mu_);
  return catalog_->ids_after(after_id, limit);
}

uint64_t Collection::count() const {
  std::shared_lock ix(index_mu_);
  const Space& space = *spaces_.front();
  return space.index ? space.index->size() : 0;
}

const Collection::Space& Collection::locked_space(const std::string& name) const {
  std::shared_lock ix(index_mu_);
  return space_named(name);
}

Collection::Space& Collection::space_named(const std::string& name) const {
  for (auto& space : spaces_)
    if (name.empty() ? space->first : space->name == name) return *space;
  std::string names;
  for (auto& space : spaces_) names += (names.empty() ? "'" : ", '") + space->name + "'";
  fail(CBIR_ENOTFOUND, "the collection " + dir_ + " has no vector space '" + name + "' (it has " + names + ")");
}

std::optional<std::vector<int64_t>> Collection::allowed_ids(const SearchFilter& filter) {
  if (!filter.active()) return std::nullopt;
  // Each part given narrows the set: their intersection, in id order.
  std::optional<std::vector<int64_t>> allowed;
  auto narrow = [&allowed](std::vector<int64_t> ids) {
    std::sort(ids.begin(), ids.end());
    if (!allowed) {
      allowed = std::move(ids);
      return;
    }
    std::vector<int64_t> both;
    std::set_intersection(allowed->begin(), allowed->end(), ids.begin(), ids.end(),
                          std::back_inserter(both));
    allowed = std::move(both);
  };
  if (filter.ids && !filter.uri_prefix && !filter.where) return filter.ids;
  if (filter.ids) narrow(*filter.ids);
  if (filter.uri_prefix) {
    check_utf8(*filter.uri_prefix, "uri_prefix");
    std::lock_guard db(db_mu_);
    narrow(catalog_->ids_with_uri_prefix(*filter.uri_prefix));
  }
  if (filter.where) {
    std::lock_guard db(db_mu_);
    narrow(catalog_->ids_where(*filter.where));
  }
  return allowed;
}

// Results fill nq * k int64 ids: more than any buffer can hold (2^61 with one query) is refused
// before a pointer past them is even formed.
static void require_result_room(size_t nq, size_t k) {
  require(k > 0, "k must be at least 1");
  require(nq <= static_cast<size_t>(PTRDIFF_MAX) / sizeof(int64_t) / k,
          "n_queries * k is larger than any result buffer can be");
}

void Collection::search(const float* queries, size_t nq, size_t dim, size_t k,
                        const SearchFilter& filter, float min_score, const SearchKnobs& knobs,
                        float* scores, int64_t* ids, const std::string& space_name) {
  const Space& space = locked_space(space_name);
  check_dim(space, dim, "the queries");
  require_result_room(nq, k);
  require(!std::isnan(min_score), "min_score must not be NaN");
  require(knobs.ef_search >= 0 && knobs.nprobe >= 0, "ef_search and nprobe must not be negative");
  std::vector<float> unit;
  normalized_copy(queries, nq, dim, unit, "query");
  const auto allowed = allowed_ids(filter);
  bool exact_index = false;
  {
    std::shared_lock ix(index_mu_);
    const VectorIndex& index = index_of(space);
    exact_index = index.spec().kind == IndexKind::Flat;
    if (!allowed || exact_index || allowed->size() > kExactFilterMax)
      index.search(unit.data(), nq, k, allowed ? &*allowed : nullptr, knobs, scores, ids);
  }
  if (allowed && !exact_index && allowed->size() <= kExactFilterMax)
    search_few_exactly(space, unit.data(), nq, k, *allowed, scores, ids);
  for (size_t i = 0; i < nq * k; ++i)
    if (ids[i] >= 0 && scores[i] < min_score) {
      ids[i] = -1;
      scores[i] = -INFINITY;
    }
}

void Collection::search_few_exactly(const Space& space, const float* unit, size_t nq, size_t k,
                                    const std::vector<int64_t>& allowed, float* scores,
                                    int64_t* ids) {
  std::vector<int64_t> wanted(allowed);
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  const size_t dim = static_cast<size_t>(space.dim);
  std::vector<int64_t> found;
  std::vector<float> matrix(wanted.size() * dim);
  {
    std::lock_guard db(db_mu_);
    for (int64_t id : wanted) {
      float* row = matrix.data() + found.size() * dim;
      if (space.first ? catalog_->vector(id, row, dim) : catalog_->space_vector(space.name, id, row, dim))
        found.push_back(id);
    }
  }
  flat_knn(matrix.data(), found.size(), dim, unit, nq, k, nullptr, scores, ids);
  for (size_t i = 0; i < nq * k; ++i)
    if (ids[i] >= 0) ids[i] = found[static_cast<size_t>(ids[i])];
}

std::vector<std::pair<float, int64_t>> Collection::range(const float* query, size_t dim,
                                                         float min_score,
                                                         const SearchFilter& filter,
                                                         const SearchKnobs& knobs,
                                                         const std::string& space_name) {
  const Space& space = locked_space(space_name);
  check_dim(space, dim, "the query");
  require(std::isfinite(min_score), "min_score must be a finite number");
  std::vector<float> unit;
  normalized_copy(query, 1, dim, unit, "query");
  const auto allowed = allowed_ids(filter);
  std::shared_lock ix(index_mu_);
  return index_of(space).range(unit.data(), min_score, allowed ? &*allowed : nullptr, knobs);
}

void Collection::similar(int64_t id, size_t k, const SearchFilter& filter, float min_score,
                         const SearchKnobs& knobs, float* scores, int64_t* ids,
                         const std::string& space_name) {
  require_result_room(1, k);
  const Space& space = locked_space(space_name);
  std::vector<float> query(static_cast<size_t>(space.dim));
  if (!vector(id, query.data(), query.size(), space_name))
    fail(CBIR_ENOTFOUND, "there is no item with id " + std::to_string(id) + " in " + dir_ +
                             (space.first ? "" : " with a vector in the space '" + space.name + "'"));
  uint64_t size = 0;
  {
    std::shared_lock ix(index_mu_);
    size = index_of(space).size();
  }
  // One more than asked, for the item itself; never more than the space can return.
  const size_t kk = static_cast<size_t>(std::min<uint64_t>(k, size)) + 1;
  std::vector<float> s(kk);
  std::vector<int64_t> l(kk);
  search(query.data(), 1, query.size(), kk, filter, min_score, knobs, s.data(), l.data(), space_name);
  std::fill(scores, scores + k, -INFINITY);
  std::fill(ids, ids + k, int64_t{-1});
  size_t out = 0;
  for (size_t j = 0; j < kk && out < k; ++j) {
    if (l[j] == id) continue;
    scores[out] = s[j];
    ids[out] = l[j];
    ++out;
  }
}

CollectionInfo Collection::info() const {
  CollectionInfo i;
  i.path = dir_;
  i.dim = dim_;
  i.fingerprint = fingerprint_;
  i.read_only = !writer_;
  std::shared_lock ix(index_mu_);
  const Space& space = *spaces_.front();
  i.index_spec = space.spec.str();
  i.effective_spec = space.index ? space.index->spec().str() : "";
  i.count = space.index ? space.index->size() : 0;
  i.masked = space.index ? space.index->masked() : 0;
  i.seq = index_seq_;
  i.generation = space.generation;
  return i;
}

}  // namespace cbir::store
