# The Python, Rust and Go bindings' own test suites, and every example (C, C++, and one per
# binding), run against the libcbir just built, on the shipped default model and its gallery:
# the examples must print the expected pictures first. While models/tiny-bilingual does not
# exist yet, the suites run on a random-weight test bundle (make_test_models) and the golden
# images, and whatever checks search quality skips, saying so.
set(_cbir_model ${PROJECT_SOURCE_DIR}/models/tiny-bilingual)
set(_cbir_gallery ${PROJECT_SOURCE_DIR}/examples/data/gallery)
set(_bind_env "")
set(_bind_fixtures "")
if(NOT EXISTS ${_cbir_model}/bundle.json OR NOT IS_DIRECTORY ${_cbir_gallery})
  set(_cbir_model ${PROJECT_BINARY_DIR}/test_models/cnclip-vit)
  set(_cbir_gallery ${CBIR_GOLDEN_DIR}/images)
  set(_bind_env CBIR_MODEL=${_cbir_model} CBIR_GALLERY=${_cbir_gallery})
  set(_bind_fixtures make_test_models)
  message(STATUS "bindings: no models/tiny-bilingual yet: binding tests use a test bundle, "
                 "search quality unchecked")
  # CI must check the bindings on the shipped model: there its absence fails, loudly.
  if("$ENV{CI}" STREQUAL "true" OR "$ENV{CI}" STREQUAL "1")
    add_test(NAME bindings_default_model
             COMMAND sh -c "echo 'FAIL: no models/tiny-bilingual/bundle.json or examples/data/gallery: the bindings and examples ran on a random test bundle, not the shipped model'; exit 1")
  endif()
endif()

# What each example must print for the queries below: for the English and the Chinese query a
# red circle first and only red shapes in the top 5 (the tiny model knows colours better than
# shapes); for an image query the image itself, then only shapes of its colour.
file(GLOB _query_image ${_cbir_gallery}/blue_star_*.jpg)
set(_example_args -k 5 -t "a red circle" -t "红色的圆形")
set(_example_expect "indexed [^\n]*: ([0-9]+) found, [0-9]+ added, [0-9]+ unchanged, 0 failed\n")
if(_query_image AND NOT _bind_env)
  list(GET _query_image 0 _query_image)
  get_filename_component(_query_name ${_query_image} NAME)
  string(REPLACE "." "\\." _query_name ${_query_name})
  list(APPEND _example_args -i ${_query_image})
  foreach(_text "a red circle" "红色的圆形")
    string(APPEND _example_expect ".*text \"${_text}\":\n  1\\. [^\n]*/red_circle_[0-9]+\\.jpg\n")
    foreach(_rank 2 3 4 5)
      string(APPEND _example_expect "  ${_rank}\\. [^\n]*/red_[a-z]+_[0-9]+\\.jpg\n")
    endforeach()
  endforeach()
  string(APPEND _example_expect ".*image \"[^\n]*\":\n  1\\. 1\\.000 [^\n]*/${_query_name}\n")
  foreach(_rank 2 3 4 5)
    string(APPEND _example_expect "  ${_rank}\\. [^\n]*/blue_[a-z]+_[0-9]+\\.jpg\n")
  endforeach()
endif()

# cbir_example_test(NAME WORKDIR PROGRAM ARGS...): runs an example on a fresh collection and
# checks its exit status and output.
function(cbir_example_test name workdir)
  set(coll ${CMAKE_CURRENT_BINARY_DIR}/examples/${name}.collection)
  set(cmd ${ARGN} ${_cbir_model} ${_cbir_gallery} ${coll} ${_example_args})
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -DCLEAN=${coll} "-DEXPECT=${_example_expect}" "-DRUN=${cmd}"
            -P ${PROJECT_SOURCE_DIR}/examples/expect_output.cmake
    WORKING_DIRECTORY ${workdir})
  set_tests_properties(${name} PROPERTIES LABELS examples TIMEOUT 600
                       FIXTURES_REQUIRED "${_bind_fixtures}")
endfunction()

# The README's code per language must be a part of the example that CI runs.
add_test(NAME readme_snippets
         COMMAND ${CBIR_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_readme_snippets.py
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(readme_snippets PROPERTIES LABELS examples)

if(CBIR_BUILD_EXAMPLES AND EXISTS ${PROJECT_SOURCE_DIR}/examples/CMakeLists.txt)
  # Under CBIR_SANITIZE these run instrumented: a leak or a memory error fails them.
  cbir_example_test(example_c ${PROJECT_SOURCE_DIR} $<TARGET_FILE:search_folder_c>)
  cbir_example_test(example_cpp ${PROJECT_SOURCE_DIR} $<TARGET_FILE:search_folder_cpp>)
endif()

# The bindings load libcbir into Python, Rust and Go programs, which an ASan-instrumented
# library cannot be loaded into: they run in the ordinary build only.
if(CBIR_SANITIZE OR NOT BUILD_SHARED_LIBS)
  return()
endif()

set(_bind_dir ${CMAKE_CURRENT_BINARY_DIR}/bindings)
# Both suites compare their declarations of cbir.h's structs with the C compiler's layout.
add_executable(cbir_struct_layout ${PROJECT_SOURCE_DIR}/bindings/python/tests/struct_layout.c)
target_include_directories(cbir_struct_layout PRIVATE ${PROJECT_SOURCE_DIR}/include)
list(APPEND _bind_env CBIR_STRUCT_LAYOUT=$<TARGET_FILE:cbir_struct_layout>)

# Python (ctypes): the library straight from the build tree.
set(_py_env ${_bind_env} CBIR_LIBRARY=$<TARGET_FILE:cbir> PYTHONDONTWRITEBYTECODE=1
            PYTHONPATH=${PROJECT_SOURCE_DIR}/bindings/python)
add_test(NAME python_binding
         COMMAND ${CBIR_PYTHON} -m pytest -q -rs -p no:cacheprovider bindings/python/tests
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(python_binding PROPERTIES LABELS bindings TIMEOUT 600
                     ENVIRONMENT "${_py_env}" FIXTURES_REQUIRED "${_bind_fixtures}")
cbir_example_test(example_python ${PROJECT_SOURCE_DIR} ${CBIR_PYTHON}
                  bindings/python/examples/search_folder.py)
set_property(TEST example_python APPEND PROPERTY ENVIRONMENT "${_py_env}")

# Rust: linked through CBIR_LIB_DIR (the build tree), offline, no external crates.
find_program(CBIR_CARGO cargo HINTS $ENV{HOME}/.cargo/bin)
if(CBIR_CARGO)
  set(_rust_env ${_bind_env} CBIR_LIB_DIR=$<TARGET_FILE_DIR:cbir>
                LD_LIBRARY_PATH=$<TARGET_FILE_DIR:cbir> CARGO_TARGET_DIR=${_bind_dir}/rust-target)
  add_test(NAME rust_binding
           COMMAND ${CBIR_CARGO} test --offline --quiet
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/bindings/rust)
  set_tests_properties(rust_binding PROPERTIES LABELS bindings TIMEOUT 900
                       ENVIRONMENT "${_rust_env}" FIXTURES_REQUIRED "${_bind_fixtures}")
  cbir_example_test(example_rust ${PROJECT_SOURCE_DIR}/bindings/rust ${CBIR_CARGO} run
                    --offline --quiet --example search_folder --)
  set_property(TEST example_rust APPEND PROPERTY ENVIRONMENT "${_rust_env}")
else()
  message(WARNING "the Rust binding's tests are skipped: no cargo (sudo bash scripts/setup)")
endif()

# Go (cgo): through pkg-config, from an installation into a scratch prefix, with no module
# downloads.
find_program(CBIR_GO go)
find_program(CBIR_PKG_CONFIG pkg-config)
if(CBIR_GO AND CBIR_PKG_CONFIG)
  set(_prefix ${_bind_dir}/prefix)
  add_test(NAME bindings_install
           COMMAND ${CMAKE_COMMAND} --install ${PROJECT_BINARY_DIR} --prefix ${_prefix})
  set_tests_properties(bindings_install PROPERTIES LABELS bindings FIXTURES_SETUP bindings_install)
  set(_go_env ${_bind_env} PKG_CONFIG_PATH=${_prefix}/${CMAKE_INSTALL_LIBDIR}/pkgconfig
              LD_LIBRARY_PATH=${_prefix}/${CMAKE_INSTALL_LIBDIR} GOPROXY=off GOFLAGS=-buildvcs=false)
  add_test(NAME go_binding COMMAND ${CBIR_GO} test -v -count=1 ./...
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/bindings/go)
  set_tests_properties(go_binding PROPERTIES LABELS bindings TIMEOUT 600
                       ENVIRONMENT "${_go_env}"
                       FIXTURES_REQUIRED "bindings_install;${_bind_fixtures}")
  cbir_example_test(example_go ${PROJECT_SOURCE_DIR}/bindings/go ${CBIR_GO} run
                    ./examples/search_folder)
  set_property(TEST example_go APPEND PROPERTY ENVIRONMENT "${_go_env}")
  set_property(TEST example_go APPEND PROPERTY FIXTURES_REQUIRED bindings_install)
else()
  message(WARNING "the Go binding's tests are skipped: no go or pkg-config (sudo bash scripts/setup)")
endif()
