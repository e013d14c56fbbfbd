// Collection's vector spaces besides the first: making one, listing them, and filling one with
// the vectors of items already in the collection. Loading, saving, searching and compacting
// treat every space alike (collection.cpp).
#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "common/error.hpp"
#include "store/collection.hpp"
#include "store/vectors.hpp"
#include "text/utf8.hpp"

namespace cbir::store {

void check_space_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 32 &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
                  });
  if (!ok)
    fail(CBIR_EINVAL, "'" + name + "' cannot name a vector space: use 1 to 32 of a-z, 0-9, '_' "
                      "and '-' (it also names the space's index file)");
}

void Collection::add_space(const std::string& name, int32_t dim, const std::string& fingerprint,
                           const std::string& index_spec) {
  require_writer("add a vector space");
  check_space_name(name);
  // The checks of a new collection's settings apply to a new space's too.
  OpenOptions opts;
  opts.dim = dim;
  opts.fingerprint = fingerprint;
  opts.index_spec = index_spec;
  const CatalogMeta checked = new_collection_meta(opts);
  std::lock_guard w(write_mu_);
  for (auto& space : spaces_)
    if (space->name == name)
      fail(CBIR_EEXIST, "the collection " + dir_ + " already has a vector space '" + name + "'");
  auto space = std::make_unique<Space>();
  space->name = name;
  space->dim = dim;
  space->fingerprint = fingerprint;
  space->spec = IndexSpec::parse(checked.index_spec);
  space->index = build_index(space->spec, static_cast<size_t>(dim), {}, {}, /*fall_back=*/false);
  {
    // Committed at once with the writes before it, like a rebuild: a space is a setting.
    std::lock_guard db(db_mu_);
    catalog_->begin_write();
    catalog_->add_space({name, dim, fingerprint, checked.index_spec, 0});
    catalog_->commit();
  }
  std::unique_lock ix(index_mu_);
  spaces_.push_back(std::move(space));
}

namespace {

template <class Space>
SpaceInfo info_of(const Space& space) {
  SpaceInfo i;
  i.name = space.name;
  i.dim = space.dim;
  i.fingerprint = space.fingerprint;
  i.index_spec = space.spec.str();
  i.effective_spec = space.index ? space.index->spec().str() : "";
  i.count = space.index ? space.index->size() : 0;
  i.generation = space.generation;
  return i;
}

}  // namespace

std::vector<SpaceInfo> Collection::spaces() const {
  std::shared_lock ix(index_mu_);
  std::vector<SpaceInfo> out;
  for (auto& space : spaces_) out.push_back(info_of(*space));
  return out;
}

SpaceInfo Collection::space(const std::string& name) const {
  std::shared_lock ix(index_mu_);
  return info_of(space_named(name));
}

std::vector<int64_t> Collection::space_ids(const std::string& name) {
  const Space& space = locked_space(name);
  std::lock_guard db(db_mu_);
  if (!space.first) return catalog_->space_ids(space.name);
  std::vector<int64_t> ids;
  for (;;) {
    const auto page = catalog_->ids_after(ids.empty() ? -1 : ids.back(), 65536);
    if (page.empty()) return ids;
    ids.insert(ids.end(), page.begin(), page.end());
  }
}

void Collection::set_space_vectors(const std::string& space_name, const int64_t* ids,
                                   const float* vectors, size_t n, size_t dim) {
  require_writer("set vectors");
  require(n == 0 || (ids != nullptr && vectors != nullptr), "ids and vectors must not be NULL");
  std::lock_guard w(write_mu_);
  Space& space = space_named(space_name);
  if (space.first)
    fail(CBIR_EINVAL, "the space '" + space.name + "' is the collection's first: its vectors come "
                      "with the items (add or upsert them)");
  check_dim(space, dim, "the vectors");
  std::vector<float> unit;
  normalized_copy(vectors, n, dim, unit, "vector");
  std::lock_guard db(db_mu_);
  if (n == 0) return;
  const int64_t seq0 = seq_;
  catalog_->begin_write();
  catalog_->savepoint();
  try {
    for (size_t i = 0; i < n; ++i) {
      if (!catalog_->has_item(ids[i]))
        fail(CBIR_ENOTFOUND, "there is no item with id " + std::to_string(ids[i]) + " in " + dir_ +
                                 "; nothing was written");
      catalog_->write_space_vector(space.name, ids[i], unit.data() + i * dim, dim, ++seq_);
    }
    catalog_->set_seq(seq_);
  } catch (...) {
    catalog_->rollback_to();
    seq_ = seq0;
    throw;
  }
  try {
    std::unique_lock ix(index_mu_);
    index_of(space).upsert(ids, unit.data(), n);
    index_seq_ = seq_;
  } catch (...) {
    catalog_->rollback_to();
    seq_ = seq0;
    restore_after_failure();
    throw;
  }
  catalog_->release();
}

}  // namespace cbir::store
