# Durable subscription store of the presence plugin (stox-core §2.6): SubscriptionStore
# interface, SQLite (WAL, write-behind batching) and in-memory backends.
# Included at the end of plugins/presence/CMakeLists.txt.
find_package(SQLite3 REQUIRED) # Debian: libsqlite3-dev

add_library(stox_presence_store STATIC
  ${CMAKE_CURRENT_LIST_DIR}/src/store/list_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/store/memory_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/store/sqlite_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/store/store_factory.cpp)
target_include_directories(stox_presence_store PUBLIC ${CMAKE_CURRENT_LIST_DIR}/src)
target_link_libraries(stox_presence_store PUBLIC stox::sdk PRIVATE SQLite::SQLite3 Threads::Threads)
set_target_properties(stox_presence_store PROPERTIES
  POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
stox_set_warnings(stox_presence_store)

file(GLOB _presence_store_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test/store_*_test.cpp)
if(STOX_BUILD_TESTS AND _presence_store_tests)
  add_executable(stox_presence_store_tests ${_presence_store_tests})
  target_link_libraries(stox_presence_store_tests PRIVATE stox_presence_store SQLite::SQLite3
                                                          GTest::gtest_main)
  stox_set_warnings(stox_presence_store_tests)
  gtest_discover_tests(stox_presence_store_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endif()

# Not a test: writes 100k records, reopens and times load_all (figures printed, not asserted).
if(STOX_BUILD_BENCH)
  add_executable(stox_presence_store_bench ${CMAKE_CURRENT_LIST_DIR}/src/store/store_bench.cpp)
  target_link_libraries(stox_presence_store_bench PRIVATE stox_presence_store)
  stox_set_warnings(stox_presence_store_bench)
endif()
