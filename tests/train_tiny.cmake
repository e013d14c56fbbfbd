# tools/train_tiny (Python, Debian's torch): the data generator, the vocab, a short seeded
# training run through the real exporter, and the shipped default model (models/tiny-bilingual)
# against its held-out gallery (examples/data).
set(CBIR_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with torch, numpy and pytest (tools/export)")
execute_process(COMMAND ${CBIR_PYTHON} -c "import torch, numpy, pytest, PIL"
                RESULT_VARIABLE _cbir_train_tiny_python OUTPUT_QUIET ERROR_QUIET)
if(NOT _cbir_train_tiny_python EQUAL 0)
  message(WARNING "tools/train_tiny tests skipped: ${CBIR_PYTHON} cannot import torch, numpy, "
                  "pytest and PIL (sudo bash scripts/setup installs them)")
  return()
endif()

add_test(NAME train_tiny_pytest
         COMMAND ${CBIR_PYTHON} -m pytest -q -rs -p no:cacheprovider tools/train_tiny/tests
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(train_tiny_pytest PROPERTIES LABELS python TIMEOUT 900)
