# The warning set every hush target is held to (tests included).
function(hush_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wimplicit-fallthrough -Wold-style-cast -Woverloaded-virtual)
  if(HUSH_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
