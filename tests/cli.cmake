# The cbir command end to end (tests/cli/test_cli.py): the shipped default model on its gallery
# (precision@5 per colour x shape, image queries, re-index, prune, SIGKILL and resume, bad files).
if(NOT TARGET cbir_cli OR NOT TEST make_test_models)
  return()
endif()
add_test(NAME cli_e2e
         COMMAND ${CBIR_PYTHON} -m pytest -q -rs -p no:cacheprovider tests/cli
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(cli_e2e PROPERTIES
  LABELS python TIMEOUT 900 FIXTURES_REQUIRED make_test_models
  ENVIRONMENT "CBIR_BIN=$<TARGET_FILE:cbir_cli>;CBIR_DEFAULT_MODEL=${PROJECT_SOURCE_DIR}/models/tiny-bilingual;CBIR_DEFAULT_GALLERY=${PROJECT_SOURCE_DIR}/examples/data;CBIR_TEST_BUNDLE=${CBIR_TEST_MODELS_DIR}/cnclip-vit")
