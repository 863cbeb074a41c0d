# stox_set_warnings(target): the project's warning set; -Werror when STOX_WERROR is ON (CI).
function(stox_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual
                                           -Wnull-dereference -Wimplicit-fallthrough)
  if(STOX_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
