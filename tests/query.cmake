# Queries above the store (lib/query): the filter language, its errors, and filtered searches
# through the C API against a reference computed in the test.
cbir_unit_test(test_query_filter SOURCES unit/test_query_filter.cpp)
# Photo facts and user attributes: stored, read back, filtered on against a reference.
cbir_unit_test(test_photo_attrs SOURCES unit/test_photo_attrs.cpp)
# Composite queries against a reference sum of the parts (the shipped tiny model).
cbir_unit_test(test_query_compose SOURCES unit/test_query_compose.cpp)
# Duplicate groups against every pair's reference closure.
cbir_unit_test(test_query_duplicates SOURCES unit/test_query_duplicates.cpp)
# Fusion of several spaces' rankings against their definitions.
cbir_unit_test(test_query_fusion SOURCES unit/test_query_fusion.cpp)
set_tests_properties(test_query_filter test_photo_attrs test_query_compose test_query_duplicates
  test_query_fusion PROPERTIES LABELS "unit;query")
