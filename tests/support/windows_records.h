// A create record as the Windows driver makes it, for the tests that replay Windows records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "support/record_builder.h"

namespace procsentry::test {

// A create as the driver makes it; with `sid` (binary), the token block names its user.
inline Bytes windows_create(std::uint32_t pid, const std::u16string& image, const std::u16string& command,
                            std::string_view sid = {}, std::uint32_t ppid = 600) {
  RecordBuilder<ps_create> b(PS_REC_CREATE, 1'795'521'841'000'000'000, PS_CLOCK_UNIX_EPOCH);
  ps_create body = b.body();
  body.task.pid = pid;
  body.task.ppid = ppid;
  body.creator_pid = ppid;
  body.session_id = 1;
  if (!sid.empty()) {
    body.create_flags = PS_CREATE_PARENT_START_TIME | PS_CREATE_TOKEN;
    body.token_flags = PS_TOKEN_FLAGS_KNOWN;
    body.integrity_rid = 0x4000;
    body.elevated = 1;
    body.elevation_type = 1;
    body.logon_id = 0x3e7;
    body.token_type = 1;
    body.user_sid = b.add(sid);
  }
  body.image = b.add(std::string_view(reinterpret_cast<const char*>(image.data()), image.size() * 2),
                     PS_STR_PRESENT | PS_STR_UTF16LE);
  body.command_line = b.add(std::string_view(reinterpret_cast<const char*>(command.data()), command.size() * 2),
                            PS_STR_PRESENT | PS_STR_UTF16LE);
  b.set_body(body);
  return b.finish();
}

}  // namespace procsentry::test
