# STOX_SANITIZE=address,undefined | thread. Applied to everything (core, plugins, tests), because
# the sanitizer mode is part of the plugin build fingerprint: mixing modes is refused at load.
if(STOX_SANITIZE)
  set(_san "-fsanitize=${STOX_SANITIZE}" -fno-omit-frame-pointer)
  if(STOX_SANITIZE MATCHES "undefined")
    list(APPEND _san -fno-sanitize-recover=undefined)
  endif()
  if(STOX_SANITIZE MATCHES "thread")
    # g++ 12 warns that atomic_thread_fence is unsupported by TSan inside Asio.
    list(APPEND _san -Wno-tsan)
  endif()
  add_compile_options(${_san})
  add_link_options(${_san})
endif()
