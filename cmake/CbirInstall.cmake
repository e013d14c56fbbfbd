# install(): the library, its header, a CMake package (cbir::cbir) and pkg-config's cbir.pc.
include(CMakePackageConfigHelpers)

install(TARGETS cbir EXPORT cbirTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/cbir.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(CBIR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cbir)
install(EXPORT cbirTargets NAMESPACE cbir:: DESTINATION ${CBIR_CMAKE_DIR})
configure_package_config_file(cmake/cbirConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/cbirConfig.cmake INSTALL_DESTINATION ${CBIR_CMAKE_DIR})
# A consumer asking for major N accepts any N.x.y at least as new as it asked for.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cbirConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cbirConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/cbirConfigVersion.cmake
        DESTINATION ${CBIR_CMAKE_DIR})

if(BUILD_SHARED_LIBS)
  set(CBIR_PC_PRIVATE_LIBS "")
else()
  set(CBIR_PC_PRIVATE_LIBS "-ltorch -ltorch_cpu -lc10 -lfaiss -lutf8proc -lturbojpeg -lxxhash -lcrypto -lsqlite3 -lgomp -lpthread -lstdc++")
  foreach(_fmt IN LISTS CBIR_IMAGE_FORMATS)  # the photo formats' libraries
    list(JOIN LIB${_fmt}_LDFLAGS " " _fmt_flags)
    string(APPEND CBIR_PC_PRIVATE_LIBS " ${_fmt_flags}")
  endforeach()
endif()
# Relocatable: the prefix is found from where cbir.pc lies, so `cmake --install --prefix` works.
file(RELATIVE_PATH CBIR_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" CBIR_PC_TO_PREFIX "${CBIR_PC_TO_PREFIX}")
configure_file(cmake/cbir.pc.in ${CMAKE_CURRENT_BINARY_DIR}/cbir.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cbir.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
