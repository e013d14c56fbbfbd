# cbir serve (cli/cmd_serve.cpp, cli/serve/): its HTTP API and safety rules (pytest over a real
# server on a tiny test bundle), and the page in a headless chromium on the default model.
get_target_property(_serve_defs cbir_cli COMPILE_DEFINITIONS)
if(NOT TARGET cbir_cli OR NOT "${_serve_defs}" MATCHES "CBIR_CLI_SERVE")
  message(STATUS "cbir serve tests skipped: cbir serve is not built (needs libcpp-httplib-dev)")
  return()
endif()

add_test(NAME serve_safety
         COMMAND ${CBIR_PYTHON} -m pytest -q -rs -p no:cacheprovider
                 ${CMAKE_CURRENT_SOURCE_DIR}/serve/test_safety.py)
set_tests_properties(serve_safety PROPERTIES LABELS serve TIMEOUT 300
  ENVIRONMENT "CBIR_BIN=$<TARGET_FILE:cbir_cli>;CBIR_TEST_MODELS=${CBIR_TEST_MODELS_DIR}")
if(TEST make_test_models)
  set_tests_properties(serve_safety PROPERTIES FIXTURES_REQUIRED make_test_models)
endif()

# Screenshots land in the build folder: serve_browser/serve-*.png.
add_test(NAME serve_browser
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/serve/run_browser_test.sh
                 $<TARGET_FILE:cbir_cli> ${CMAKE_CURRENT_BINARY_DIR}/serve_browser)
set_tests_properties(serve_browser PROPERTIES LABELS serve TIMEOUT 300 SKIP_RETURN_CODE 77)
