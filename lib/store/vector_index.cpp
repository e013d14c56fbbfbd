#include "store/vector_index.hpp"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/clone_index.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/error.hpp"
#include "store/huge_pages.hpp"
#include "store/flat_scan.hpp"
#include "store/snapshot.hpp"

namespace cbir::store {

// FAISS 1.7.3 calls its id type faiss::Index::idx_t, later versions faiss::idx_t.
using faiss_idx = decltype(faiss::Index::ntotal);
static_assert(sizeof(faiss_idx) == sizeof(int64_t), "FAISS ids are 64-bit");

namespace {

constexpr size_t kPointsPerCentroid = 39;  // fewer and FAISS's k-means complains on stderr
constexpr uint64_t kMaxSlots = uint64_t{1} << 40;
// How a snapshot stores the index after the slot table. A flat index is its vectors: cbir writes
// and reads them itself, into huge pages (FAISS's reader zero-fills 4 KiB pages first: most of
// a 1M-vector open).
constexpr uint32_t kFaissIndex = 0;
constexpr uint32_t kRawVectors = 1;

// How many vectors FAISS needs to train `index` without complaint (0: needs none).
size_t training_needed(const faiss::Index* index) {
  if (index == nullptr || index->is_trained) return 0;
  if (auto pre = dynamic_cast<const faiss::IndexPreTransform*>(index))
    return std::max<size_t>(1, training_needed(pre->index));
  size_t need = 1;
  if (auto ivf = dynamic_cast<const faiss::IndexIVF*>(index))
    need = std::max(need, kPointsPerCentroid * ivf->nlist);
  if (auto ivfpq = dynamic_cast<const faiss::IndexIVFPQ*>(index))
    need = std::max(need, kPointsPerCentroid * ivfpq->pq.ksub);
  if (auto pq = dynamic_cast<const faiss::IndexPQ*>(index))
    need = std::max(need, kPointsPerCentroid * pq->pq.ksub);
  return need;
}

[[noreturn]] void faiss_failed(const IndexSpec& spec, const char* doing, const std::exception& e) {
  fail(CBIR_EUNSUPPORTED,
       std::string("the index '") + spec.str() + "' cannot " + doing + ": " + e.what());
}

using Hit = std::pair<float, int64_t>;
bool better(const Hit& a, const Hit& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

}  // namespace

// Admits live slots, optionally only those of allowed ids.
class VectorIndex::Selector final : public faiss::IDSelector {
 public:
  explicit Selector(const std::vector<int64_t>& slot_ids) : slot_ids_(slot_ids) {}
  bool is_member(faiss_idx slot) const override {
    if (slot < 0 || static_cast<size_t>(slot) >= slot_ids_.size() || slot_ids_[slot] < 0)
      return false;
    return !filtered || allowed[static_cast<size_t>(slot)];
  }
  bool filtered = false;
  std::vector<bool> allowed;
  size_t allowed_count = 0;

 private:
  const std::vector<int64_t>& slot_ids_;
};

VectorIndex::VectorIndex(const IndexSpec& spec, size_t dim, const float* train, size_t ntrain)
    : spec_(spec), dim_(dim) {
  try {
    index_.reset(faiss::index_factory(static_cast<int>(dim), spec.factory_string().c_str(),
                                      faiss::METRIC_INNER_PRODUCT));
  } catch (const faiss::FaissException& e) {
    fail(CBIR_EINVAL, "invalid index spec '" + spec.str() + "': FAISS cannot make it: " + e.what());
  }
  if (auto hnsw = dynamic_cast<faiss::IndexHNSW*>(index_.get())) {
    if (spec.kind == IndexKind::Hnsw) {
      hnsw->hnsw.efConstruction = spec.ef_construction;
      hnsw->hnsw.efSearch = spec.ef_search;
    }
  }
  if (auto ivf = dynamic_cast<faiss::IndexIVF*>(index_.get())) {
    if (spec.kind == IndexKind::Ivf) ivf->nprobe = static_cast<size_t>(spec.nprobe);
  }
  const size_t need = std::max(spec.training_minimum(), training_needed(index_.get()));
  if (need > 0) {
    if (ntrain < need)
      fail(CBIR_EINVAL, "the index '" + spec.str() + "' is trained on the stored vectors and needs at least " +
                            std::to_string(need) + " of them; the collection holds " +
                            std::to_string(ntrain) +
                            ". Use flat or hnsw until it holds enough, or a smaller nlist");
    try {
      index_->train(static_cast<faiss_idx>(ntrain), train);
    } catch (const faiss::FaissException& e) {
      faiss_failed(spec, "be trained", e);
    }
  }
  set_mode();
}

VectorIndex::VectorIndex(SnapshotSource& src, const IndexSpec& spec, size_t dim)
    : spec_(spec), dim_(dim) {
  uint64_t nslots = 0;
  src.read(&nslots, sizeof nslots);
  if (nslots > kMaxSlots) fail(CBIR_ECORRUPT, "impossible slot count");
  slot_ids_.resize(nslots);
  src.read(slot_ids_.data(), nslots * sizeof(int64_t));
  uint64_t masked = 0, exact = 0;
  src.read(&masked, sizeof masked);
  src.read(&exact, sizeof exact);
  if (masked > nslots || (exact != 0 && exact != nslots * dim))
    fail(CBIR_ECORRUPT, "inconsistent slot counts");
  masked_ = masked;
  exact_.resize(exact);
  src.read(exact_.data(), exact * sizeof(float));
  uint32_t layout = 0;
  src.read(&layout, sizeof layout);
  if (layout == kRawVectors) {
    auto flat = std::make_unique<faiss::IndexFlatIP>(static_cast<faiss_idx>(dim));
    const size_t bytes = static_cast<size_t>(nslots) * dim * sizeof(float);
    reserve_huge(flat->codes, bytes);
    flat->codes.resize(bytes);
    src.read(flat->codes.data(), bytes);
    flat->ntotal = static_cast<faiss_idx>(nslots);
    index_ = std::move(flat);
  } else if (layout == kFaissIndex) {
    index_.reset(faiss::read_index(src.faiss_reader()));
  } else {
    fail(CBIR_ECORRUPT, "unknown index layout");
  }
  if (index_->d != static_cast<int>(dim) || index_->metric_type != faiss::METRIC_INNER_PRODUCT)
    fail(CBIR_ECORRUPT, "the index has another dimension or metric");
  for (size_t s = 0; s < slot_ids_.size(); ++s) {
    if (slot_ids_[s] < 0) continue;
    if (!slot_of_.emplace(slot_ids_[s], static_cast<int64_t>(s)).second)
      fail(CBIR_ECORRUPT, "an id appears twice");
  }
  set_mode();
  check_consistent();
}

VectorIndex::VectorIndex(const VectorIndex& like, std::unique_ptr<faiss::Index> index)
    : spec_(like.spec_), dim_(like.dim_), index_(std::move(index)) {
  set_mode();
}

VectorIndex::~VectorIndex() = default;

void VectorIndex::set_mode() {
  if (dynamic_cast<faiss::IndexFlat*>(index_.get()))
    mode_ = Mode::Flat;
  else if (dynamic_cast<faiss::IndexIVF*>(index_.get()))
    mode_ = Mode::Ivf;
  else if (dynamic_cast<faiss::IndexHNSW*>(index_.get()))
    mode_ = Mode::Hnsw;
  else
    mode_ = Mode::Other;
}

void VectorIndex::check_consistent() const {
  // IVF holds exactly the live slots (it removes); the others hold every slot, masked or not.
  const size_t expected = mode_ == Mode::Ivf ? slot_of_.size() : slot_ids_.size();
  const size_t dead = slot_ids_.size() - slot_of_.size();
  if (static_cast<size_t>(index_->ntotal) != expected ||
      (mode_ != Mode::Ivf && dead != masked_) || (mode_ == Mode::Ivf && masked_ != 0) ||
      (mode_ == Mode::Flat && masked_ != 0))
    fail(CBIR_ECORRUPT, "the index and its id map disagree");
}

void VectorIndex::save(SnapshotSink& sink) const {
  uint64_t nslots = slot_ids_.size(), masked = masked_, exact = exact_.size();
  sink.write(&nslots, sizeof nslots);
  sink.write(slot_ids_.data(), nslots * sizeof(int64_t));
  sink.write(&masked, sizeof masked);
  sink.write(&exact, sizeof exact);
  sink.write(exact_.data(), exact * sizeof(float));
  const uint32_t layout = mode_ == Mode::Flat ? kRawVectors : kFaissIndex;
  sink.write(&layout, sizeof layout);
  if (layout == kRawVectors) {
    const auto& codes = static_cast<const faiss::IndexFlat*>(index_.get())->codes;
    sink.write(codes.data(), codes.size());
  } else {
    faiss::write_index(index_.get(), sink.faiss_writer());
  }
}

std::unique_ptr<VectorIndex> VectorIndex::empty_copy() const {
  if (index_->is_trained && training_needed(index_.get()) == 0 && spec_.training_minimum() == 0 &&
      mode_ != Mode::Ivf && mode_ != Mode::Other)
    return std::make_unique<VectorIndex>(spec_, dim_, nullptr, 0);
  // Keep what training produced (coarse centroids, codebooks): clone, then empty.
  std::unique_ptr<faiss::Index> copy;
  try {
    copy.reset(faiss::clone_index(index_.get()));
    copy->reset();
  } catch (const faiss::FaissException& e) {
    faiss_failed(spec_, "be copied for compaction", e);
  }
  return std::unique_ptr<VectorIndex>(new VectorIndex(*this, std::move(copy)));
}

void VectorIndex::upsert(const int64_t* ids, const float* vectors, size_t n) {
  if (n == 0) return;
  // Within one call the last occurrence of an id wins.
  std::vector<size_t> keep;
  keep.reserve(n);
  {
    std::unordered_map<int64_t, size_t> last;
    for (size_t i = 0; i < n; ++i) last[ids[i]] = i;
    for (size_t i = 0; i < n; ++i)
      if (last[ids[i]] == i) keep.push_back(i);
  }
  std::vector<int64_t> replaced;
  for (size_t i : keep)
    if (contains(ids[i])) replaced.push_back(ids[i]);
  remove(replaced.data(), replaced.size());

  std::vector<float> packed;
  const float* v = vectors;
  if (keep.size() != n) {
    packed.resize(keep.size() * dim_);
    for (size_t j = 0; j < keep.size(); ++j)
      std::memcpy(packed.data() + j * dim_, vectors + keep[j] * dim_, dim_ * sizeof(float));
    v = packed.data();
  }
  const size_t m = keep.size();
  const int64_t base = static_cast<int64_t>(slot_ids_.size());
  reserve_for(m);
  try {
    if (mode_ == Mode::Ivf) {
      std::vector<faiss_idx> labels(m);
      for (size_t j = 0; j < m; ++j) labels[j] = base + static_cast<int64_t>(j);
      index_->add_with_ids(static_cast<faiss_idx>(m), v, labels.data());
    } else {
      index_->add(static_cast<faiss_idx>(m), v);
    }
  } catch (const faiss::FaissException& e) {
    faiss_failed(spec_, "add vectors", e);
  } catch (const std::length_error& e) {  // e.g. faiss:HNSW2000000000 sizes vectors beyond reach
    faiss_failed(spec_, "add vectors with parameters this large", e);
  }
  slot_ids_.reserve(slot_ids_.size() + m);
  for (size_t j = 0; j < m; ++j) {
    slot_ids_.push_back(ids[keep[j]]);
    slot_of_[ids[keep[j]]] = base + static_cast<int64_t>(j);
  }
  if (spec_.rerank > 0) exact_.insert(exact_.end(), v, v + m * dim_);
}

void VectorIndex::reserve_for(size_t m) {
  faiss::Index* vectors = index_.get();
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(vectors)) vectors = hnsw->storage;
  if (auto* codes = dynamic_cast<faiss::IndexFlatCodes*>(vectors))
    reserve_huge(codes->codes, (static_cast<size_t>(codes->ntotal) + m) * codes->code_size);
  if (spec_.rerank > 0) reserve_huge(exact_, exact_.size() + m * dim_);
}

void VectorIndex::kill_slot(int64_t slot) {
  slot_ids_[static_cast<size_t>(slot)] = -1;
  ++masked_;
}

size_t VectorIndex::remove(const int64_t* ids, size_t n) {
  size_t removed = 0;
  std::vector<faiss_idx> ivf_slots;
  for (size_t i = 0; i < n; ++i) {
    auto it = slot_of_.find(ids[i]);
    if (it == slot_of_.end()) continue;
    const int64_t slot = it->second;
    slot_of_.erase(it);
    ++removed;
    if (mode_ == Mode::Flat) {
      // The last vector moves into the freed slot: O(dim), and nothing is left to mask.
      auto* flat = static_cast<faiss::IndexFlat*>(index_.get());
      const int64_t last = static_cast<int64_t>(slot_ids_.size()) - 1;
      const size_t bytes = flat->code_size;
      if (slot != last) {
        std::memcpy(flat->codes.data() + slot * bytes, flat->codes.data() + last * bytes, bytes);
        slot_ids_[slot] = slot_ids_[last];
        slot_of_[slot_ids_[slot]] = slot;
      }
      slot_ids_.pop_back();
      flat->codes.resize(static_cast<size_t>(last) * bytes);
      flat->ntotal = last;
    } else if (mode_ == Mode::Ivf) {
      slot_ids_[static_cast<size_t>(slot)] = -1;
      ivf_slots.push_back(slot);
    } else {
      kill_slot(slot);
    }
  }
  if (!ivf_slots.empty()) {
    try {
      faiss::IDSelectorBatch sel(ivf_slots.size(), ivf_slots.data());
      index_->remove_ids(sel);
    } catch (const faiss::FaissException& e) {
      faiss_failed(spec_, "remove vectors", e);
    }
  }
  return removed;
}

std::vector<int64_t> VectorIndex::ids() const {
  std::vector<int64_t> out;
  out.reserve(slot_of_.size());
  for (const auto& [id, slot] : slot_of_) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

const float* VectorIndex::flat_data() const {
  return reinterpret_cast<const float*>(static_cast<const faiss::IndexFlat*>(index_.get())->codes.data());
}

std::unique_ptr<VectorIndex::Selector> VectorIndex::selector(
    const std::vector<int64_t>* allowed) const {
  if (allowed == nullptr && masked_ == 0) return nullptr;
  auto sel = std::make_unique<Selector>(slot_ids_);
  if (allowed != nullptr) {
    sel->filtered = true;
    sel->allowed.assign(slot_ids_.size(), false);
    for (int64_t id : *allowed) {
      auto it = slot_of_.find(id);
      if (it == slot_of_.end() || sel->allowed[it->second]) continue;
      sel->allowed[it->second] = true;
      ++sel->allowed_count;
    }
  }
  return sel;
}

void VectorIndex::faiss_search(const float* queries, size_t nq, size_t k, const Selector* sel,
                               const SearchKnobs& knobs, float* scores, int64_t* slots) const {
  if (mode_ == Mode::Flat) {
    flat_knn(flat_data(), static_cast<size_t>(index_->ntotal), dim_, queries, nq, k, sel, scores,
             slots);
    return;
  }
  try {
    const auto n = static_cast<faiss_idx>(nq);
    const auto kk = static_cast<faiss_idx>(k);
    if (mode_ == Mode::Hnsw) {
      faiss::SearchParametersHNSW p;
      p.efSearch = knobs.ef_search > 0 ? knobs.ef_search
                                       : static_cast<const faiss::IndexHNSW*>(index_.get())->hnsw.efSearch;
      p.sel = const_cast<Selector*>(sel);
      index_->search(n, queries, kk, scores, slots, &p);
    } else if (mode_ == Mode::Ivf) {
      auto ivf = static_cast<const faiss::IndexIVF*>(index_.get());
      faiss::SearchParametersIVF p;
      p.nprobe = knobs.nprobe > 0 ? static_cast<size_t>(knobs.nprobe) : ivf->nprobe;
      p.nprobe = std::min(p.nprobe, ivf->nlist);
      p.max_codes = ivf->max_codes;
      p.sel = const_cast<Selector*>(sel);
      index_->search(n, queries, kk, scores, slots, &p);
    } else if (sel != nullptr) {
      faiss::SearchParameters p;
      p.sel = const_cast<Selector*>(sel);
      index_->search(n, queries, kk, scores, slots, &p);
    } else {
      index_->search(n, queries, kk, scores, slots);
    }
  } catch (const faiss::FaissException& e) {
    faiss_failed(spec_, sel ? "run a filtered search (or one after removals; compact it)" : "search", e);
  }
}

void VectorIndex::rerank(const float* query, size_t k, size_t candidates, const float* cand_scores,
                         const int64_t* cand_slots, float* scores, int64_t* slots) const {
  (void)cand_scores;
  std::vector<Hit> hits;
  hits.reserve(candidates);
  for (size_t c = 0; c < candidates; ++c) {
    const int64_t slot = cand_slots[c];
    if (slot < 0) continue;
    hits.emplace_back(faiss::fvec_inner_product(query, exact_.data() + slot * dim_, dim_), slot);
  }
  const size_t m = std::min(k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + m, hits.end(), better);
  for (size_t i = 0; i < k; ++i) {
    scores[i] = i < m ? hits[i].first : -INFINITY;
    slots[i] = i < m ? hits[i].second : -1;
  }
}

void VectorIndex::search(const float* queries, size_t nq, size_t k,
                         const std::vector<int64_t>* allowed, const SearchKnobs& knobs,
                         float* scores, int64_t* ids) const {
  auto sel = selector(allowed);
  const size_t reachable = sel && sel->filtered ? sel->allowed_count : size();
  const size_t kk = std::min(k, reachable);
  std::fill(scores, scores + nq * k, -INFINITY);
  std::fill(ids, ids + nq * k, int64_t{-1});
  if (kk == 0 || nq == 0) return;

  const bool rescore = spec_.rerank > 0 && !exact_.empty();
  const size_t kf = rescore ? std::min(kk * static_cast<size_t>(spec_.rerank), reachable) : kk;
  std::vector<float> s(nq * kf);
  std::vector<int64_t> l(nq * kf);
  faiss_search(queries, nq, kf, sel.get(), knobs, s.data(), l.data());
  if (rescore) {
    std::vector<float> rs(nq * kk);
    std::vector<int64_t> rl(nq * kk);
    for (size_t q = 0; q < nq; ++q)
      rerank(queries + q * dim_, kk, kf, s.data() + q * kf, l.data() + q * kf, rs.data() + q * kk,
             rl.data() + q * kk);
    s.swap(rs);
    l.swap(rl);
  }
  for (size_t q = 0; q < nq; ++q) {
    size_t out = 0;
    for (size_t j = 0; j < kk; ++j) {
      const int64_t slot = l[q * kk + j];
      if (slot < 0 || static_cast<size_t>(slot) >= slot_ids_.size() || slot_ids_[slot] < 0) continue;
      scores[q * k + out] = s[q * kk + j];
      ids[q * k + out] = slot_ids_[slot];
      ++out;
    }
  }
}

std::vector<std::pair<float, int64_t>> VectorIndex::range(const float* query, float min_score,
                                                          const std::vector<int64_t>* allowed,
                                                          const SearchKnobs& knobs) const {
  std::vector<Hit> hits;
  auto sel = selector(allowed);
  if (mode_ == Mode::Flat) {
    hits = flat_range(flat_data(), static_cast<size_t>(index_->ntotal), dim_, query, min_score,
                      sel.get());
  } else if (mode_ == Mode::Ivf) {
    auto ivf = static_cast<const faiss::IndexIVF*>(index_.get());
    faiss::SearchParametersIVF p;
    p.nprobe = std::min(knobs.nprobe > 0 ? static_cast<size_t>(knobs.nprobe) : ivf->nprobe, ivf->nlist);
    p.sel = sel.get();
    faiss::RangeSearchResult res(1);
    try {
      // FAISS keeps inner products strictly above the radius.
      index_->range_search(1, query, std::nextafter(min_score, -INFINITY), &res, &p);
    } catch (const faiss::FaissException& e) {
      faiss_failed(spec_, "run a range search", e);
    }
    const bool rescore = spec_.rerank > 0 && !exact_.empty();
    for (size_t j = res.lims[0]; j < res.lims[1]; ++j) {
      const int64_t slot = res.labels[j];
      const float score =
          rescore ? faiss::fvec_inner_product(query, exact_.data() + slot * dim_, dim_) : res.distances[j];
      if (score >= min_score) hits.emplace_back(score, slot);
    }
    std::sort(hits.begin(), hits.end(), better);
  } else {
    // No native range search (HNSW): widen a k-NN search until it reaches below the threshold.
    const size_t reachable = sel && sel->filtered ? sel->allowed_count : size();
    for (size_t k = std::min<size_t>(64, reachable);; k = std::min(k * 4, reachable)) {
      std::vector<float> s(k);
      std::vector<int64_t> ids(k);
      search(query, 1, k, allowed, knobs, s.data(), ids.data());
      std::vector<Hit> out;
      for (size_t j = 0; j < k; ++j)
        if (ids[j] >= 0 && s[j] >= min_score) out.emplace_back(s[j], ids[j]);
      if (k == 0 || out.size() < k || k >= reachable) return out;
    }
  }
  std::vector<Hit> out;
  out.reserve(hits.size());
  for (const Hit& h : hits)
    if (slot_ids_[h.second] >= 0) out.emplace_back(h.first, slot_ids_[h.second]);
  return out;
}

}  // namespace cbir::store
