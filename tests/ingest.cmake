# Ingest (lib/ingest + its C API) on the tiny bundles of tools/export/make_test_models.py.
cbir_unit_test(test_ingest SOURCES unit/test_ingest.cpp unit/test_ingest_spaces.cpp)
if(TEST make_test_models)
  set_tests_properties(test_ingest PROPERTIES FIXTURES_REQUIRED make_test_models
                       ENVIRONMENT CBIR_TEST_MODELS=${CBIR_TEST_MODELS_DIR})
endif()
