# tools/export (Python, Debian's torch): its pytest suite, and the tiny model bundles the C++ model
# tests load. A test needing them declares
#   set_tests_properties(T PROPERTIES FIXTURES_REQUIRED make_test_models
#                        ENVIRONMENT CBIR_TEST_MODELS=${CBIR_TEST_MODELS_DIR})
set(CBIR_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with torch, numpy and pytest (tools/export)")
set(CBIR_TEST_MODELS_DIR "${PROJECT_BINARY_DIR}/test_models")

execute_process(COMMAND ${CBIR_PYTHON} -c "import torch, numpy, pytest"
                RESULT_VARIABLE _cbir_python_status OUTPUT_QUIET ERROR_QUIET)
if(NOT _cbir_python_status EQUAL 0)
  message(WARNING "tools/export tests skipped: ${CBIR_PYTHON} cannot import torch, numpy and "
                  "pytest (sudo bash scripts/setup installs them); model tests will skip too")
  return()
endif()

add_test(NAME export_pytest
         COMMAND ${CBIR_PYTHON} -m pytest -q -rs -p no:cacheprovider tools/export/tests
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(export_pytest PROPERTIES LABELS python TIMEOUT 900)

# Golden inputs: CBIR_GOLDEN_DIR from the environment wins, as for the C++ tests.
add_test(NAME make_test_models
         COMMAND ${CBIR_PYTHON} tools/export/make_test_models.py ${CBIR_TEST_MODELS_DIR}
                 --golden ${CBIR_GOLDEN_DIR}
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(make_test_models PROPERTIES
  LABELS python FIXTURES_SETUP make_test_models TIMEOUT 600)
