# The project's warning flags, in one place. Every target gets them through
# add_compile_options; TSM_WERROR turns them into errors (CI sets it).
set(TSM_WARNINGS
  -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wpointer-arith
  -Wstrict-prototypes -Wmissing-prototypes -Wcast-qual -Wwrite-strings
  -Wundef -Wvla -Wnull-dereference -Wimplicit-fallthrough
  -Wno-unused-parameter)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  list(APPEND TSM_WARNINGS -Wlogical-op -Wduplicated-cond)
endif()
add_compile_options(${TSM_WARNINGS})
if(TSM_WERROR)
  add_compile_options(-Werror)
endif()
# Hardening that costs nothing measurable.
add_compile_options(-fstack-protector-strong)
if(NOT TSM_SANITIZE AND NOT TSM_FUZZ)
  add_compile_definitions($<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
endif()
