procsentry_unit_test(decode_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/decode_test.cpp LIBS procsentry_core)
