# stox_add_plugin(): the one way to build a stoxgw plugin, in tree and out of tree.
#
#   stox_add_plugin(NAME example
#                   MANIFEST plugin.json
#                   SOURCES src/example_plugin.cpp
#                   [ASIO] [NO_INSTALL] [STAGE_DIR dir])
#
# It reads id, version and library from the manifest (so the descriptor, generated from the
# same values through STOX_PLUGIN_ID / STOX_PLUGIN_VERSION, cannot drift from it), builds a
# MODULE library with hidden visibility and -Wl,--no-undefined (plugins need no core symbols),
# stages <stage>/<id>/{plugin.json,<library>.so} for tests, and installs both into
# ${CMAKE_INSTALL_LIBDIR}/stoxgw/plugins/<id>/ (component plugin-<NAME>).
#
# ASIO: the plugin runs Asio code on the core's io_context (stox/sdk/unstable/asio.hpp). Its
# translation units get -include stox/sdk/unstable/asio_visibility.hpp and its Asio/Boost.System
# template statics are exported, so that they bind to the core's copy (see that header). Static
# libraries linked into such a plugin need the same -include (STOX_ASIO_VISIBILITY_OPTION).
include_guard(GLOBAL)
include(GNUInstallDirs)

# What plugin code that runs on the core's io_context compiles with (see ASIO below).
set(STOX_ASIO_VISIBILITY_OPTION "SHELL:-include stox/sdk/unstable/asio_visibility.hpp")

function(stox_add_plugin)
  cmake_parse_arguments(P "NO_INSTALL;ASIO" "NAME;MANIFEST;STAGE_DIR" "SOURCES" ${ARGN})
  if(NOT P_NAME OR NOT P_MANIFEST OR NOT P_SOURCES)
    message(FATAL_ERROR "stox_add_plugin: NAME, MANIFEST and SOURCES are required")
  endif()
  get_filename_component(_manifest "${P_MANIFEST}" ABSOLUTE)
  file(READ "${_manifest}" _json)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_manifest}")
  foreach(_key id version library)
    string(JSON _val ERROR_VARIABLE _err GET "${_json}" ${_key})
    if(_err)
      message(FATAL_ERROR "${_manifest}: missing or invalid '${_key}': ${_err}")
    endif()
    set(_m_${_key} "${_val}")
  endforeach()
  foreach(_key manifest_version abi)
    string(JSON _type ERROR_VARIABLE _err TYPE "${_json}" ${_key})
    if(_err)
      message(FATAL_ERROR "${_manifest}: missing '${_key}'")
    endif()
  endforeach()
  if(NOT _m_version MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+")
    message(FATAL_ERROR "${_manifest}: version '${_m_version}' is not semver")
  endif()

  set(_target ${_m_library})
  if(NOT P_STAGE_DIR)
    if(DEFINED STOX_STAGED_PLUGIN_DIR)
      set(P_STAGE_DIR ${STOX_STAGED_PLUGIN_DIR})
    else()
      set(P_STAGE_DIR ${CMAKE_BINARY_DIR}/plugins)
    endif()
  endif()
  set(_stage ${P_STAGE_DIR}/${_m_id})

  add_library(${_target} MODULE ${P_SOURCES})
  add_library(stox::plugin::${P_NAME} ALIAS ${_target})
  target_link_libraries(${_target} PRIVATE stox::sdk)
  target_compile_definitions(${_target} PRIVATE STOX_PLUGIN_ID="${_m_id}"
                                                STOX_PLUGIN_VERSION="${_m_version}")
  set_target_properties(${_target} PROPERTIES
    PREFIX "" OUTPUT_NAME ${_m_library}
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${_stage})
  # Export the descriptor and nothing else (house style §4.9 habit 8): -fvisibility=hidden
  # cannot hide libstdc++'s default-visibility template data (in_place_index, ...).
  set(_map ${CMAKE_CURRENT_BINARY_DIR}/${_target}.exports.map)
  if(P_ASIO)
    target_compile_options(${_target} PRIVATE ${STOX_ASIO_VISIBILITY_OPTION})
    file(WRITE ${_map} "{\n  global: stox_plugin_descriptor;\n"
                       "  extern \"C++\" { boost::asio::*; boost::system::*; };\n"
                       "  local: *;\n};\n")
  else()
    file(WRITE ${_map} "{\n  global: stox_plugin_descriptor;\n  local: *;\n};\n")
  endif()
  target_link_options(${_target} PRIVATE -Wl,--no-undefined -Wl,--version-script=${_map})
  set_property(TARGET ${_target} APPEND PROPERTY LINK_DEPENDS ${_map})
  if(COMMAND stox_set_warnings)
    stox_set_warnings(${_target})
  else()
    target_compile_options(${_target} PRIVATE -Wall -Wextra)
  endif()
  configure_file(${_manifest} ${_stage}/plugin.json COPYONLY)

  if(NOT P_NO_INSTALL)
    set(_dest ${CMAKE_INSTALL_LIBDIR}/stoxgw/plugins/${_m_id})
    install(TARGETS ${_target} LIBRARY DESTINATION ${_dest} COMPONENT plugin-${P_NAME})
    install(FILES ${_manifest} DESTINATION ${_dest} RENAME plugin.json COMPONENT plugin-${P_NAME})
  endif()
  set(STOX_PLUGIN_TARGET ${_target} PARENT_SCOPE)
  set(STOX_PLUGIN_ID ${_m_id} PARENT_SCOPE)
endfunction()
