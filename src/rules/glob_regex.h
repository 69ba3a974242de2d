// A glob as the RE2 pattern that matches exactly what fnmatch(pattern, text, 0) matches,
// bytes for bytes (compile with Latin-1 encoding and dot_nl): so that all the globs of one
// field can go into one RE2::Set and an event's field is scanned once, whatever the number of
// rules.
#pragma once

#include <string>
#include <string_view>

namespace procsentry {

std::string glob_to_regex(std::string_view glob);

}  // namespace procsentry
