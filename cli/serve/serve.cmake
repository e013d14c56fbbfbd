# `cbir serve`, the web gallery: cli/cmd_serve.cpp, the C++ in cli/serve/ and the page in
# cli/serve/page/, embedded into the binary so an installed cbir needs no extra files.
# It needs Debian's cpp-httplib (a compiled library, found through pkg-config); without it the
# command is still there and says what to install.
if(PkgConfig_FOUND)
  pkg_check_modules(CBIR_HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
endif()
# Debian's libcpp-httplib is built with the C++11 string ABI; a LibTorch built with the old ABI
# (some PyTorch wheels) forces the old one on every object, and the two cannot be linked.
if(CBIR_HTTPLIB_FOUND AND "${TORCH_CXX_FLAGS}" MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
  message(STATUS "cbir serve: disabled (LibTorch uses the pre-C++11 string ABI, cpp-httplib not)")
  set(CBIR_HTTPLIB_FOUND FALSE)
endif()
if(NOT CBIR_HTTPLIB_FOUND)
  message(STATUS "cbir serve: not built (apt-get install libcpp-httplib-dev)")
  return()
endif()

file(GLOB _serve_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
file(GLOB _serve_page CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/page/*)
list(SORT _serve_page)
set(_serve_assets ${CMAKE_CURRENT_BINARY_DIR}/serve/page_assets.hpp)
string(REPLACE ";" "|" _serve_page_arg "${_serve_page}")
add_custom_command(OUTPUT ${_serve_assets}
  COMMAND ${CMAKE_COMMAND} "-DOUT=${_serve_assets}" "-DFILES=${_serve_page_arg}"
          -P ${CMAKE_CURRENT_LIST_DIR}/embed_assets.cmake
  DEPENDS ${_serve_page} ${CMAKE_CURRENT_LIST_DIR}/embed_assets.cmake
  COMMENT "Embedding the cbir serve page" VERBATIM)
target_sources(cbir_cli PRIVATE ${_serve_sources} ${_serve_assets})
target_include_directories(cbir_cli PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/serve)
target_compile_definitions(cbir_cli PRIVATE CBIR_CLI_SERVE=1)
target_link_libraries(cbir_cli PRIVATE PkgConfig::CBIR_HTTPLIB PkgConfig::TURBOJPEG
                      nlohmann_json::nlohmann_json)
