// Arrays that grow by appends to gigabytes (a flat index's vectors, the re-rank copy) are
// page-faulted in 4 KiB pieces by default. On VMs where a fault is slow that was most of a bulk
// add's time (bench/README.md, "Collection"). These helpers grow such arrays into blocks advised
// for transparent huge pages before their first touch.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace cbir::store {

// Asks the kernel to back [p, p + bytes) with huge pages where it can. Best effort: a no-op
// where transparent huge pages are off, unsupported, or the range is too small.
void advise_huge_pages(void* p, size_t bytes);

// Makes room for `n` elements in `v` (doubling, as push_back would), advising a new block for
// huge pages before the old elements are copied into it.
template <class T>
void reserve_huge(std::vector<T>& v, size_t n) {
  if (v.capacity() >= n) return;
  std::vector<T> grown;
  grown.reserve(std::max(n, 2 * v.capacity()));
  advise_huge_pages(grown.data(), grown.capacity() * sizeof(T));
  grown.insert(grown.end(), v.begin(), v.end());
  v.swap(grown);
}

}  // namespace cbir::store
