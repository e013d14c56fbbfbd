# Finds every library cbir links, with a message naming the Debian package when one is missing.
# Each dependency becomes an imported target; lib/CMakeLists.txt decides which module uses it.
find_package(PkgConfig)

macro(cbir_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "cbir needs ${what}. On Debian/Ubuntu: apt-get install ${package} "
                        "(or run scripts/setup, which installs everything).")
  endif()
endmacro()

# OpenMP first: FAISS's package config expects the OpenMP targets to exist.
find_package(OpenMP)
cbir_require(OpenMP_CXX_FOUND "OpenMP" "libgomp1 (part of g++)")

find_package(faiss CONFIG QUIET)
cbir_require(faiss_FOUND "FAISS (>= 1.7.3)" "libfaiss-dev")

# LibTorch: Debian's 1.13 (CPU), or a current one from a PyTorch installation:
#   cmake -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
find_package(Torch CONFIG QUIET)
cbir_require(Torch_FOUND "LibTorch" "libtorch-dev")
set(CBIR_WITH_CUDA OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(CBIR_WITH_CUDA ON)
endif()
# A LibTorch built with the old C++ ABI (some PyTorch wheels) requires every object that
# exchanges std::string with it to use the same ABI, so its flags apply to the whole library.
if(TORCH_CXX_FLAGS)
  separate_arguments(_cbir_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${_cbir_torch_flags}>")
endif()
message(STATUS "cbir: LibTorch ${Torch_VERSION}, CUDA ${CBIR_WITH_CUDA}; FAISS ${faiss_VERSION}")

if(PkgConfig_FOUND)
  pkg_check_modules(UTF8PROC QUIET IMPORTED_TARGET libutf8proc)
  pkg_check_modules(TURBOJPEG QUIET IMPORTED_TARGET libturbojpeg)
  pkg_check_modules(XXHASH QUIET IMPORTED_TARGET libxxhash)
  pkg_check_modules(LIBEXIF QUIET IMPORTED_TARGET libexif)
endif()
cbir_require(UTF8PROC_FOUND "utf8proc" "libutf8proc-dev")
cbir_require(TURBOJPEG_FOUND "the TurboJPEG API of libjpeg-turbo" "libturbojpeg0-dev")
cbir_require(XXHASH_FOUND "xxHash (XXH3 checksums)" "libxxhash-dev")
cbir_require(LIBEXIF_FOUND "libexif (capture time, camera and GPS from EXIF)" "libexif-dev")
find_package(OpenSSL COMPONENTS Crypto QUIET)
cbir_require(OpenSSL_FOUND "OpenSSL's libcrypto (SHA-256 of bundles)" "libssl-dev")

# Photo formats beyond JPEG/PNG/GIF/BMP/TGA/PNM: each optional, found by pkg-config. A format
# whose library is missing is refused at decode time with CBIR_EIMAGE_FORMAT naming the package;
# `cbir version` lists what this build decodes.
set(CBIR_IMAGE_FORMATS "")
if(PkgConfig_FOUND)
  pkg_check_modules(LIBWEBP QUIET IMPORTED_TARGET libwebpdemux libwebp)
  pkg_check_modules(LIBTIFF QUIET IMPORTED_TARGET libtiff-4>=4.5)
  pkg_check_modules(LIBHEIF QUIET IMPORTED_TARGET libheif)
  pkg_check_modules(LIBJXL QUIET IMPORTED_TARGET libjxl)
endif()
foreach(_fmt WEBP TIFF HEIF JXL)  # AVIF: through libheif
  if(LIB${_fmt}_FOUND)
    list(APPEND CBIR_IMAGE_FORMATS ${_fmt})
  endif()
endforeach()
message(STATUS "cbir: optional image formats compiled in: ${CBIR_IMAGE_FORMATS}")

find_path(STB_INCLUDE_DIR stb/stb_image.h)
cbir_require(STB_INCLUDE_DIR "stb_image (header <stb/stb_image.h>)" "libstb-dev")

find_package(SQLite3 QUIET)
cbir_require(SQLite3_FOUND "SQLite 3" "libsqlite3-dev")

find_package(nlohmann_json 3 CONFIG QUIET)
cbir_require(nlohmann_json_FOUND "nlohmann-json 3" "nlohmann-json3-dev")

find_package(Threads REQUIRED)
