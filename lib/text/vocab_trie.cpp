#include "text/vocab_trie.hpp"

namespace cbir::text {

VocabTrie::VocabTrie() : edges_(1024), mask_(1023) {}

void VocabTrie::insert(std::string_view key, int32_t id) {
  if (key.empty()) return;
  int32_t node = kRoot;
  for (size_t i = 0; i < key.size(); ++i) {
    if (2 * (edge_count_ + 1) > edges_.size()) grow();
    Edge& e = slot(edge_key(node, static_cast<unsigned char>(key[i])));
    if (e.key == 0) {
      e.key = edge_key(node, static_cast<unsigned char>(key[i]));
      e.target = node_count_++;
      ++edge_count_;
    }
    if (i + 1 == key.size()) e.id = id;
    node = e.target;
  }
}

int32_t VocabTrie::walk(int32_t from, std::string_view key) const {
  int32_t node = from;
  for (size_t i = 0; i < key.size() && node >= 0; ++i)
    node = child(node, static_cast<unsigned char>(key[i])).node;
  return node;
}

int32_t VocabTrie::find(std::string_view key) const {
  if (key.empty()) return -1;
  int32_t node = walk(kRoot, key.substr(0, key.size() - 1));
  return node < 0 ? -1 : child(node, static_cast<unsigned char>(key.back())).id;
}

VocabTrie::Edge& VocabTrie::slot(uint64_t key) {
  size_t i = slot_of(key);
  while (edges_[i].key != 0 && edges_[i].key != key) i = (i + 1) & mask_;
  return edges_[i];
}

void VocabTrie::grow() {
  std::vector<Edge> old(edges_.size() * 2);
  old.swap(edges_);
  mask_ = edges_.size() - 1;
  for (const Edge& e : old)
    if (e.key != 0) slot(e.key) = e;
}

}  // namespace cbir::text
