# CBIR_FUZZ=ON: libFuzzer targets (fuzz/). clang only; everything built here gets coverage
# instrumentation so the fuzzer sees into the library, and fuzz/ links the fuzzer's main.
# Use with CBIR_SANITIZE=address,undefined and BUILD_SHARED_LIBS=OFF (scripts/fuzz does).
if(CBIR_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang" OR NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CBIR_FUZZ needs clang: cmake -DCMAKE_C_COMPILER=clang "
                        "-DCMAKE_CXX_COMPILER=clang++ (Debian: apt-get install clang libclang-rt-dev)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
