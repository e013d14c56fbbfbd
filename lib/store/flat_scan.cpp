#include "store/flat_scan.hpp"

#include <cblas.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace cbir::store {

namespace {

constexpr size_t kRowBlock = 16384;   // scores of one block stay in cache
constexpr size_t kQueryBlock = 64;

using Hit = std::pair<float, int64_t>;

// Better hit first: higher score, then lower row (deterministic ties).
inline bool better(const Hit& a, const Hit& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

// A bounded min-heap of the best hits seen so far.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }
  float threshold() const { return heap_.size() < k_ ? -INFINITY : heap_.front().first; }
  bool full() const { return heap_.size() == k_; }
  void push(float score, int64_t row) {
    if (heap_.size() < k_) {
      heap_.emplace_back(score, row);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better(Hit(score, row), heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = Hit(score, row);
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }
  void write(float* scores, int64_t* labels, size_t k_out) {
    std::sort_heap(heap_.begin(), heap_.end(), better);
    for (size_t i = 0; i < k_out; ++i) {
      scores[i] = i < heap_.size() ? heap_[i].first : -INFINITY;
      labels[i] = i < heap_.size() ? heap_[i].second : -1;
    }
  }

 private:
  size_t k_;
  std::vector<Hit> heap_;
};

// OpenBLAS (pthreads) called from several threads at once makes them spin on sched_yield()
// for its thread pool, which on a small machine costs more than it gains: searches take
// turns per block of rows, each using all of BLAS's threads.
std::mutex blas_mu;

// Below this many floats per block, waking OpenBLAS's threads costs more than the arithmetic
// (a few hundred vectors took milliseconds under concurrent load): FAISS's SSE loop instead.
constexpr size_t kBlasMinFloats = size_t{1} << 20;

// scores[q * rows + r] = <queries[q], x[r]> for a block of rows.
void block_scores(const float* x, size_t rows, size_t dim, const float* queries, size_t nq,
                  float* out) {
  if (rows * dim < kBlasMinFloats) {
    for (size_t q = 0; q < nq; ++q)
      faiss::fvec_inner_products_ny(out + q * rows, queries + q * dim, x, dim, rows);  // query . each row
    return;
  }
  std::lock_guard<std::mutex> lock(blas_mu);
  if (nq == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(rows), static_cast<int>(dim), 1.0f, x,
                static_cast<int>(dim), queries, 1, 0.0f, out, 1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(nq),
                static_cast<int>(rows), static_cast<int>(dim), 1.0f, queries,
                static_cast<int>(dim), x, static_cast<int>(dim), 0.0f, out,
                static_cast<int>(rows));
  }
}

}  // namespace

void flat_knn(const float* x, size_t n, size_t dim, const float* queries, size_t nq, size_t k,
              const faiss::IDSelector* sel, float* scores, int64_t* labels) {
  const size_t heap_k = std::min(k, n);
  std::vector<float> buf(std::min(n, kRowBlock) * std::min(nq, kQueryBlock));
  for (size_t q0 = 0; q0 < nq; q0 += kQueryBlock) {
    const size_t qn = std::min(kQueryBlock, nq - q0);
    std::vector<TopK> tops(qn, TopK(heap_k));
    for (size_t r0 = 0; r0 < n && heap_k > 0; r0 += kRowBlock) {
      const size_t rows = std::min(kRowBlock, n - r0);
      block_scores(x + r0 * dim, rows, dim, queries + q0 * dim, qn, buf.data());
      for (size_t q = 0; q < qn; ++q) {
        TopK& top = tops[q];
        const float* s = buf.data() + q * rows;
        for (size_t r = 0; r < rows; ++r) {
          // Check the cheap score before the selector.
          if (s[r] < top.threshold() || (top.full() && s[r] == top.threshold())) continue;
          const int64_t row = static_cast<int64_t>(r0 + r);
          if (sel != nullptr && !sel->is_member(row)) continue;
          top.push(s[r], row);
        }
      }
    }
    for (size_t q = 0; q < qn; ++q)
      tops[q].write(scores + (q0 + q) * k, labels + (q0 + q) * k, k);
  }
}

std::vector<std::pair<float, int64_t>> flat_range(const float* x, size_t n, size_t dim,
                                                  const float* query, float min_score,
                                                  const faiss::IDSelector* sel) {
  std::vector<Hit> hits;
  std::vector<float> buf(std::min(n, kRowBlock));
  for (size_t r0 = 0; r0 < n; r0 += kRowBlock) {
    const size_t rows = std::min(kRowBlock, n - r0);
    block_scores(x + r0 * dim, rows, dim, query, 1, buf.data());
    for (size_t r = 0; r < rows; ++r) {
      const int64_t row = static_cast<int64_t>(r0 + r);
      if (buf[r] >= min_score && (sel == nullptr || sel->is_member(row)))
        hits.emplace_back(buf[r], row);
    }
  }
  std::sort(hits.begin(), hits.end(), better);
  return hits;
}

}  // namespace cbir::store
