// One allocation holding a struct followed by the strings it points to, released by the
// caller with cbir_free(): how the C API hands back items, infos and attribute lists.
#pragma once

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace cbir::capi {

class Block {
 public:
  explicit Block(size_t head, const std::vector<const std::string*>& strings) : head_(head) {
    size_t bytes = head;
    for (const std::string* s : strings) bytes += s->size() + 1;
    mem_ = static_cast<char*>(std::calloc(1, bytes));
    if (mem_ == nullptr) throw std::bad_alloc();
    next_ = mem_ + head_;
  }
  ~Block() { std::free(mem_); }
  const char* put(const std::string& s) {
    char* p = next_;
    std::memcpy(p, s.c_str(), s.size() + 1);
    next_ += s.size() + 1;
    return p;
  }
  template <class T>
  T* head() {
    return reinterpret_cast<T*>(mem_);
  }
  char* release() {
    char* m = mem_;
    mem_ = nullptr;
    return m;
  }

 private:
  size_t head_;
  char* mem_ = nullptr;
  char* next_ = nullptr;
};

}  // namespace cbir::capi
