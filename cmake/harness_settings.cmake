# Two INTERFACE targets that our own code links PRIVATE (third-party code never
# does): harness_warnings turns warnings into errors, harness_settings carries
# the sanitizer switches of the `asan` and `fuzz` presets.

option(HARNESS_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(HARNESS_FUZZ "Build fuzz/ as libFuzzer targets (clang), everything with ASan + UBSan" OFF)

add_library(harness_warnings INTERFACE)
target_compile_options(harness_warnings INTERFACE -Wall -Wextra -Werror)
# g++ 12 at -O2/-O3 reports impossible memcpy overlaps and sizes inside
# std::string concatenation (GCC bugs 105329, 105651); the warnings are noise
# there, so they are off.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(harness_warnings INTERFACE -Wno-restrict -Wno-stringop-overflow)
endif()

add_library(harness_settings INTERFACE)
if(HARNESS_SANITIZE)
  # Sanitizers must cover every object in the binary, so they are global
  # options rather than per-target ones. g++'s `undefined` leaves out
  # float-cast-overflow (a double past the integer it is converted to, as
  # in time arithmetic on a scaled clock), so it is named.
  add_compile_options(-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined,float-cast-overflow)
  add_link_options(-fsanitize=address,undefined,float-cast-overflow)
endif()
if(HARNESS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "HARNESS_FUZZ needs clang (libFuzzer): use the `fuzz` preset")
  endif()
  # Every object carries libFuzzer's coverage hooks and the sanitizers, so
  # the library code under test guides the fuzzer and its bugs are caught;
  # only the fuzz targets link libFuzzer itself (fuzz/CMakeLists.txt).
  # clang 14 cannot emit -fsanitize=function's prologue data for the split
  # parts of a coroutine ("Cannot represent a difference across sections"),
  # so that one UBSan check is left out.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
                      -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # clang stamps each precompiled header with its build time, so ccache
  # misses every file using one in a fresh build folder (CI) without this.
  add_compile_options(-Xclang -fno-pch-timestamp)
endif()
# Checked std:: accessors turn a bad index or an empty optional into an
# abort, which tests and the fuzzer then see.
if(CMAKE_BUILD_TYPE STREQUAL "Debug" OR HARNESS_FUZZ)
  target_compile_definitions(harness_settings INTERFACE _GLIBCXX_ASSERTIONS)
endif()
