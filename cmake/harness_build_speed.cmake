# Build speed on a 2-core machine: ccache when present, lld when present.

find_program(HARNESS_CCACHE ccache)
if(HARNESS_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # pch_defines/time_macros let ccache serve translation units that use the
  # precompiled header; without them every PCH user is a cache miss.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros ${HARNESS_CCACHE})
endif()

include(CheckLinkerFlag)
check_linker_flag(CXX "-fuse-ld=lld" HARNESS_HAVE_LLD)
if(HARNESS_HAVE_LLD)
  add_link_options(-fuse-ld=lld)
endif()
