# Tokenizer tests (lib/text): its rules with a vocab of their own, parity with Chinese-CLIP on
# the golden texts, fuzzing, the C API, the `cbir tokenize` command, and a differential run
# against the pure-Python reference port on random text.
cbir_unit_test(test_tokenizer
  SOURCES unit/test_tokenizer.cpp unit/test_tokenizer_golden.cpp
  LINK cbir_mod_text nlohmann_json::nlohmann_json)
cbir_unit_test(test_tokenizer_fuzz SOURCES unit/test_tokenizer_fuzz.cpp
  LINK cbir_mod_text PkgConfig::UTF8PROC)
cbir_unit_test(test_tokenizer_capi SOURCES unit/test_tokenizer_capi.cpp LINK cbir)

# The scripts need only Python's standard library; Debian's python3 is preferred.
find_program(CBIR_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(CBIR_PYTHON3 python3)
if(TARGET cbir_cli AND CBIR_PYTHON3)
  set(_cli_tokenize ${CMAKE_CURRENT_SOURCE_DIR}/text/cli_tokenize.py)
  add_test(NAME tokenize_cli
    COMMAND ${CBIR_PYTHON3} ${_cli_tokenize} $<TARGET_FILE:cbir_cli> basics)
  add_test(NAME tokenize_cli_golden
    COMMAND ${CBIR_PYTHON3} ${_cli_tokenize} $<TARGET_FILE:cbir_cli> golden ${CBIR_GOLDEN_DIR})
  set_tests_properties(tokenize_cli_golden PROPERTIES SKIP_RETURN_CODE 77)
  add_test(NAME tokenize_differential
    COMMAND ${CBIR_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/text/differential.py
            $<TARGET_FILE:cbir_cli> ${CBIR_GOLDEN_DIR})
  set_tests_properties(tokenize_cli tokenize_cli_golden tokenize_differential
    PROPERTIES LABELS unit)
endif()
