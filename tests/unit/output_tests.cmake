find_package(nlohmann_json REQUIRED)
procsentry_unit_test(text_escape_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/text_escape_test.cpp
  LIBS procsentry_core nlohmann_json::nlohmann_json)
procsentry_unit_test(sinks_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/sinks_test.cpp
  LIBS procsentry_sinks nlohmann_json::nlohmann_json)
procsentry_unit_test(filter_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/filter_test.cpp LIBS procsentry_core)
procsentry_unit_test(json_schema_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/json_schema_test.cpp
  LIBS procsentry_sinks nlohmann_json::nlohmann_json)
target_compile_definitions(json_schema_test PRIVATE PROCSENTRY_JSON_SCHEMA="${PROJECT_SOURCE_DIR}/docs/json-schema.md")
procsentry_unit_test(json_writer_identity_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/json_writer_identity_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/json_reference.cpp LIBS procsentry_sinks)
target_include_directories(json_writer_identity_test PRIVATE ${PROJECT_SOURCE_DIR}/src)
if(PROCSENTRY_BUILD_SENSOR)
  procsentry_unit_test(pipeline_seq_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/pipeline_seq_test.cpp
    LIBS procsentry_app procsentry_wire)
endif()
procsentry_unit_test(verify_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/verify_test.cpp LIBS procsentry_verify fmt::fmt)
procsentry_unit_test(schema_formats_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/schema_formats_test.cpp
  LIBS procsentry_syslog nlohmann_json::nlohmann_json)
target_compile_definitions(schema_formats_test PRIVATE PROCSENTRY_SCHEMAS="${PROJECT_SOURCE_DIR}/tests/schemas")
