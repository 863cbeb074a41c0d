# Checks the dynamic symbols a plugin exports (house style §4.9 habit 8: "one exported symbol,
# checked with nm -D --defined-only").
#   cmake -DNM=<nm> -DLIBRARY=<plugin.so> -DEXPECTED=<symbol;...> -P check_exports.cmake
# Ignored, because a plugin cannot avoid them:
#  - _init, _fini and the linker's section markers;
#  - vague-linkage entities of namespace std (typeinfo, typeinfo name, vtable: _ZT[ISV]St...,
#    and member functions _ZN[K]St...). libstdc++ declares namespace std with default
#    visibility, so -fvisibility=hidden does not hide e.g. the typeinfo of
#    std::bad_variant_access that sdk::Result (a std::variant) instantiates. They name no plugin
#    code; a linker version script in stox_add_plugin() would drop them too.
# Anything else must be exactly EXPECTED.
execute_process(COMMAND ${NM} -D --defined-only ${LIBRARY}
                OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${NM} failed on ${LIBRARY}: ${_err}")
endif()
string(REPLACE "\n" ";" _lines "${_out}")
set(_symbols)
foreach(_line IN LISTS _lines)
  if(_line MATCHES "^[0-9A-Fa-f]* *[A-Za-z] +([^ ]+)$")
    set(_sym ${CMAKE_MATCH_1})
    if(NOT _sym MATCHES "^(_init|_fini|_edata|_end|__bss_start)$" AND
       NOT _sym MATCHES "^_ZT[ISV]N?St" AND NOT _sym MATCHES "^_ZNK?St")
      list(APPEND _symbols ${_sym})
    endif()
  endif()
endforeach()
list(SORT _symbols)
set(_expected ${EXPECTED})
list(SORT _expected)
if(NOT "${_symbols}" STREQUAL "${_expected}")
  message(FATAL_ERROR "${LIBRARY} exports [${_symbols}], expected exactly [${_expected}]")
endif()
message(STATUS "${LIBRARY}: exports [${_symbols}]")
