# The collection (lib/store): unit tests through the C API and of the internals, and a
# kill-at-random test whose helper writes and commits until SIGKILL stops it.
cbir_unit_test(test_store
  SOURCES unit/test_store_internals.cpp unit/test_store_collection.cpp)
