// A byte trie over the vocabulary, so that WordPiece's greedy longest match is one walk down
// the trie instead of a dictionary lookup for every candidate substring.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace cbir::text {

class VocabTrie {
 public:
  static constexpr int32_t kRoot = 0;

  VocabTrie();

  // Adds a non-empty key; adding a key again replaces its id (like a Python dict).
  void insert(std::string_view key, int32_t id);

  struct Step {
    int32_t node;  // the node reached, or -1 when there is no such edge
    int32_t id;    // the id of the key that ends there, or -1
  };

  // One step down from `node` along `byte`. The id travels with the edge, so a walk touches
  // one table slot per byte.
  Step child(int32_t node, unsigned char byte) const {
    uint64_t key = edge_key(node, byte);
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (edges_[i].key == key) return {edges_[i].target, edges_[i].id};
      if (edges_[i].key == 0) return {-1, -1};
    }
  }

  // The node reached by `key` from `from`, or -1.
  int32_t walk(int32_t from, std::string_view key) const;
  // The id of `key`, or -1.
  int32_t find(std::string_view key) const;

 private:
  struct Edge {
    uint64_t key = 0;  // edge_key(); 0 marks an empty slot
    int32_t target = -1;
    int32_t id = -1;   // of the key that ends at target
  };
  static uint64_t edge_key(int32_t node, unsigned char byte) {
    return (static_cast<uint64_t>(node) + 1) << 8 | byte;
  }
  size_t slot_of(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
  }
  Edge& slot(uint64_t key);  // the slot holding `key`, or the empty one where it belongs
  void grow();

  std::vector<Edge> edges_;  // open addressing, linear probing, at most half full
  size_t mask_ = 0;
  size_t edge_count_ = 0;
  int32_t node_count_ = 1;   // the root
};

}  // namespace cbir::text
