# Two INTERFACE targets that our own code links PRIVATE (third-party code never
# does): harness_warnings turns warnings into errors, harness_settings carries
# the sanitizer switches of the `asan` preset.

option(HARNESS_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

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
  # options rather than per-target ones.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  target_compile_definitions(harness_settings INTERFACE _GLIBCXX_ASSERTIONS)
endif()
