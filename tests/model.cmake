# Model bundles. test_model_bundle makes its own bundles from TorchScript written in C++ (no
# Python). test_model_parity and test_model_capi load the tiny random-weight bundles of every
# family that tools/export/make_test_models.py exports through the real exporter, with the
# Python eager model's reference embeddings (the make_test_models fixture, tests/export.cmake).
# The C++-level tests link only the stages they exercise.
set(_model_stages cbir_mod_model cbir_mod_text cbir_mod_image cbir_mod_common)
cbir_unit_test(test_model_bundle SOURCES unit/test_model_bundle.cpp LINK ${_model_stages})
cbir_unit_test(test_model_parity SOURCES unit/test_model_parity.cpp LINK ${_model_stages})
cbir_unit_test(test_model_capi SOURCES unit/test_model_capi.cpp)
cbir_unit_test(test_model_bf16 SOURCES unit/test_model_bf16.cpp)
set_tests_properties(test_model_bundle test_model_parity test_model_capi test_model_bf16
  PROPERTIES LABELS "unit;model")
if(TEST make_test_models)
  set_tests_properties(test_model_parity test_model_capi test_model_bf16 PROPERTIES
    FIXTURES_REQUIRED make_test_models
    ENVIRONMENT "CBIR_TEST_MODELS=${CBIR_TEST_MODELS_DIR}")
endif()
