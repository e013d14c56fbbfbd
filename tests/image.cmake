# lib/image: decoding (formats, bad files, memory), Pillow parity of the transforms, and the
# image section of the C API (through libcbir, as a user links it).
cbir_unit_test(test_image_decode SOURCES unit/test_image_decode.cpp
  LINK cbir_mod_image cbir_mod_common)
cbir_unit_test(test_image_preprocess SOURCES unit/test_image_preprocess.cpp
  LINK cbir_mod_image cbir_mod_common)
cbir_unit_test(test_image_c_api SOURCES unit/test_image_c_api.cpp LINK cbir)
if(TARGET cbir_cli)
  cbir_unit_test(test_image_cli SOURCES unit/test_image_cli.cpp LINK cbir_mod_common)
  target_compile_definitions(test_image_cli PRIVATE CBIR_CLI="$<TARGET_FILE:cbir_cli>")
  add_dependencies(test_image_cli cbir_cli)
endif()
