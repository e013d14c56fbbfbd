# The collection (lib/store): unit tests through the C API and of the internals, and a
# kill-at-random test whose helper writes and commits until SIGKILL stops it.
cbir_unit_test(test_store
  SOURCES unit/test_store_internals.cpp unit/test_store_collection.cpp
          unit/test_store_specs.cpp unit/test_store_create.cpp unit/test_store_backup.cpp
          unit/test_store_rot.cpp)

# The kill test's helper uses the public C API only, against the real libcbir.
add_executable(test_store_kill_helper unit/test_store_kill_helper.c)
target_compile_options(test_store_kill_helper PRIVATE -std=c99 -Wall -Wextra)
target_link_libraries(test_store_kill_helper PRIVATE cbir::cbir)
cbir_unit_test(test_store_kill SOURCES unit/test_store_kill.cpp)
target_compile_definitions(test_store_kill PRIVATE
  CBIR_STORE_KILL_HELPER="$<TARGET_FILE:test_store_kill_helper>")
add_dependencies(test_store_kill test_store_kill_helper)

# Reliability (issue 10): every file of a collection damaged in turn; threads searching while one
# writes, with a second process (the probe helper, C API only) locked out of writing.
cbir_unit_test(test_store_corrupt SOURCES unit/test_store_corrupt.cpp)
add_executable(test_store_probe_helper unit/test_store_probe_helper.c)
target_compile_options(test_store_probe_helper PRIVATE -std=c99 -Wall -Wextra)
target_link_libraries(test_store_probe_helper PRIVATE cbir::cbir)
cbir_unit_test(test_store_concurrency SOURCES unit/test_store_concurrency.cpp)
target_compile_definitions(test_store_concurrency PRIVATE
  CBIR_STORE_PROBE_HELPER="$<TARGET_FILE:test_store_probe_helper>")
add_dependencies(test_store_concurrency test_store_probe_helper)

# Vector spaces (issue 20): two models' vectors of the same items, each space on its own index.
cbir_unit_test(test_store_spaces SOURCES unit/test_store_spaces.cpp)
