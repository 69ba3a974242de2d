procsentry_unit_test(decode_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/decode_test.cpp LIBS procsentry_core)
procsentry_unit_test(capture_header_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/capture_header_test.cpp
  LIBS procsentry_core)
