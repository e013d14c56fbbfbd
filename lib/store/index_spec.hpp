// Index specs: how the FAISS index of a collection is built and searched.
//
//   flat                                     exact search (BLAS-backed)
//   hnsw[:M=32,efConstruction=40,efSearch=64]
//   ivf[:nlist=auto,nprobe=auto,code=flat|sq8|pq[<m>[x<bits>]],rerank=0]
//   faiss:<factory string>                   any FAISS index_factory string, e.g. faiss:IVF256,PQ32
//   auto                                     chosen from the collection's size and a memory budget
//
// Keys are case-insensitive. Every index uses inner product on L2-normalized vectors (cosine).
// `rerank=R` re-scores the best k*R candidates with the exact vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cbir::store {

enum class IndexKind { Flat, Hnsw, Ivf, Faiss, Auto };
enum class IvfCode { Flat, Sq8, Pq };

struct IndexSpec {
  IndexKind kind = IndexKind::Flat;
  // hnsw
  int hnsw_m = 32;
  int ef_construction = 40;
  int ef_search = 64;
  // ivf; 0 = chosen from the collection's size when the index is built
  int nlist = 0;
  int nprobe = 0;
  IvfCode code = IvfCode::Flat;
  int pq_m = 0;
  int pq_bits = 8;
  int rerank = 0;
  // faiss
  std::string factory;

  // Parses a spec; CBIR_EINVAL says what is accepted.
  static IndexSpec parse(const std::string& text);
  // The canonical text (what parse() reads back to an equal spec).
  std::string str() const;

  // A concrete spec for `n` vectors of `dim` within `memory_budget` bytes: "auto" picks a kind,
  // ivf's automatic values get numbers. CBIR_EINVAL when it cannot apply to `dim`.
  IndexSpec resolve(size_t n, size_t dim, uint64_t memory_budget) const;
  // How many vectors training needs (0 when the index needs no training). Concrete specs only.
  size_t training_minimum() const;
  // The FAISS index_factory string of a concrete spec.
  std::string factory_string() const;
};

// Half of the machine's physical memory: the default budget for "auto".
uint64_t default_memory_budget();

}  // namespace cbir::store
