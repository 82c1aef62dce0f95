# Installed files and the Debian package (packaging/README.md): the `mapfs`
# command, libmapfs.a with its headers, a pkg-config file and a CMake package
# (find_package(mapfs) → mapfs::mapfs), the man page, the systemd template
# unit, the sample and (python/CMakeLists.txt) the Python module. `cpack` in
# a tree configured with -DCMAKE_INSTALL_PREFIX=/usr builds the .deb
# (scripts/package.sh).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MAPFS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mapfs)

# CMake package: the export set of core/CMakeLists.txt plus a config file that
# finds what the static library's link interface names.
install(EXPORT mapfsTargets NAMESPACE mapfs:: FILE mapfs-targets.cmake
        DESTINATION ${MAPFS_CMAKE_DIR})
configure_package_config_file(cmake/mapfs-config.cmake.in
                              ${PROJECT_BINARY_DIR}/packaging/mapfs-config.cmake
                              INSTALL_DESTINATION ${MAPFS_CMAKE_DIR})
# The format and API change between minor versions while the major is 0.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/packaging/mapfs-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/packaging/mapfs-config.cmake
              ${PROJECT_BINARY_DIR}/packaging/mapfs-config-version.cmake
        DESTINATION ${MAPFS_CMAKE_DIR})

# pkg-config file.
configure_file(cmake/mapfs.pc.in ${PROJECT_BINARY_DIR}/packaging/mapfs.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/mapfs.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Man page, compressed as Debian policy asks (-n: no timestamp, reproducible).
find_program(MAPFS_GZIP gzip REQUIRED)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/packaging/mapfs.1.gz
                   COMMAND ${MAPFS_GZIP} -9nc ${PROJECT_SOURCE_DIR}/packaging/mapfs.1
                           > ${PROJECT_BINARY_DIR}/packaging/mapfs.1.gz
                   DEPENDS ${PROJECT_SOURCE_DIR}/packaging/mapfs.1 VERBATIM)
add_custom_target(mapfs_man ALL DEPENDS ${PROJECT_BINARY_DIR}/packaging/mapfs.1.gz)
install(FILES ${PROJECT_BINARY_DIR}/packaging/mapfs.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# systemd template unit: mapfs@NAME mounts /etc/mapfs/NAME.yaml. Under the
# prefix (/usr/lib/systemd/system for /usr), where packages put units.
install(FILES packaging/mapfs@.service DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)

install(FILES packaging/mapfs.bash-completion RENAME mapfs
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES packaging/mounts.example.yaml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
file(GLOB MAPFS_SAMPLE_FILES ${PROJECT_SOURCE_DIR}/sample/*.yaml
     ${PROJECT_SOURCE_DIR}/sample/*.jsonl)
install(FILES ${MAPFS_SAMPLE_FILES} DESTINATION ${CMAKE_INSTALL_DATADIR}/mapfs/sample)

# The Debian package.
set(MAPFS_PACKAGE_MAINTAINER "mapfs maintainers <maintainers@users.noreply.h-seed-f75719e6.example>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mapfs)
set(CPACK_PACKAGE_VENDOR "mapfs")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "typed memory-mapped record files, mounted read-only with FUSE")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${MAPFS_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The extended description; CPack indents it and turns empty lines into " .".
set(CPACK_PACKAGE_DESCRIPTION
    "mapfs builds large read-mostly datasets (catalogs, lookup tables, feature
stores, embeddings) into immutable typed segment files from JSONL or C++.
Native clients read records zero-copy from the mapping; the FUSE daemon
shows collections, records and fields as directories and files for ls, cat,
jq and numpy.

This package holds the mapfs command, a systemd unit to mount
/etc/mapfs/NAME.yaml, the Python module mapfs (import mapfs) for python3,
and the static library libmapfs with its headers, pkg-config file and CMake
package for native clients.")
# Shared libraries of /usr/bin/mapfs come from dpkg-shlibdeps. fuse3 holds
# fusermount3, which unmounts for non-root users. libmapfs.a is a static
# archive: a client links it with -lsimdjson -lxxhash, whose link-time .so
# files are in the -dev packages.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fuse3, libsimdjson-dev, libxxhash-dev")
# The Python module (python/CMakeLists.txt) is built for one interpreter
# version: its file name carries the ABI tag (_mapfs.cpython-311-...so), so
# the package needs exactly that python3 minor version, as Debian's own
# extension packages do, and the numpy it imports (the -abiN virtual package
# of the numpy headers it was compiled with, as dh_numpy3 adds).
if(MAPFS_PYTHON)
  find_package(Python3 3.9 REQUIRED COMPONENTS Interpreter Development.Module NumPy)
  math(EXPR MAPFS_PYTHON_NEXT_MINOR "${Python3_VERSION_MINOR} + 1")
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS
         ", python3 (>= ${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}~)"
         ", python3 (<< ${Python3_VERSION_MAJOR}.${MAPFS_PYTHON_NEXT_MINOR}), python3-numpy")
  find_file(MAPFS_NUMPY_CONFIG_H numpy/_numpyconfig.h PATHS ${Python3_NumPy_INCLUDE_DIRS}
            NO_DEFAULT_PATH)
  if(MAPFS_NUMPY_CONFIG_H)
    file(STRINGS ${MAPFS_NUMPY_CONFIG_H} MAPFS_NUMPY_ABI REGEX "define NPY_ABI_VERSION")
    if(MAPFS_NUMPY_ABI MATCHES "0x0*([0-9a-fA-F]+)$")
      math(EXPR MAPFS_NUMPY_ABI_NUMBER "0x${CMAKE_MATCH_1} & 0xffffff")
      string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", python3-numpy-abi${MAPFS_NUMPY_ABI_NUMBER}")
    endif()
  endif()
  # Maintainer scripts: byte-compile the module at install and remove the
  # byte code at removal (else dpkg -r leaves __pycache__ and its directory).
  if(IS_ABSOLUTE "${MAPFS_PYTHON_INSTALL_DIR}")
    set(MAPFS_PYTHON_PACKAGE_DIR "${MAPFS_PYTHON_INSTALL_DIR}")
  else()
    set(MAPFS_PYTHON_PACKAGE_DIR "${CMAKE_INSTALL_PREFIX}/${MAPFS_PYTHON_INSTALL_DIR}")
  endif()
  foreach(script postinst prerm)
    configure_file(packaging/debian/${script}.in ${PROJECT_BINARY_DIR}/packaging/debian/${script}
                   @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                   GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
    list(APPEND CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/packaging/debian/${script})
  endforeach()
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
