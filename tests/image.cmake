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

# Photo formats (WebP, TIFF, HEIC, AVIF, JPEG XL) through the Python binding, against Pillow and
# the formats' reference decoders, on files the test writes with the formats' own tools. Not
# under sanitizers (an instrumented libcbir cannot be loaded into Python): there the decoders
# are exercised by their fuzz targets (scripts/fuzz).
if(BUILD_SHARED_LIBS AND NOT CBIR_SANITIZE)
  add_test(NAME image_photo_formats
           COMMAND ${CBIR_PYTHON} -m pytest -q -rs -p no:cacheprovider tests/image
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(image_photo_formats PROPERTIES LABELS "python;image" TIMEOUT 300
    ENVIRONMENT "CBIR_LIBRARY=$<TARGET_FILE:cbir>;PYTHONDONTWRITEBYTECODE=1;PYTHONPATH=${PROJECT_SOURCE_DIR}/bindings/python")
endif()

# The same decoding built without any optional format library, as on a machine that lacks
# them: each such format is refused with CBIR_EIMAGE_FORMAT naming the package to install.
get_target_property(_image_sources cbir_mod_image SOURCES)
list(FILTER _image_sources EXCLUDE REGEX "decode_(webp|tiff|heif|jxl)\\.cpp$")
list(TRANSFORM _image_sources PREPEND ${PROJECT_SOURCE_DIR}/lib/image/)
cbir_unit_test(test_image_without_formats SOURCES unit/test_image_without_formats.cpp ${_image_sources}
  LINK cbir_mod_common PkgConfig::TURBOJPEG PkgConfig::LIBEXIF)
target_include_directories(test_image_without_formats PRIVATE ${STB_INCLUDE_DIR} ${PROJECT_SOURCE_DIR}/include)
target_compile_definitions(test_image_without_formats PRIVATE CBIR_BUILDING)
