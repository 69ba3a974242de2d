// libbpf speaks through a global print callback. We keep its last lines so that a failure
// can be explained in one line plus, with --verbose, the verifier's own words.
#pragma once

#include <string>

namespace procsentry {

void capture_libbpf_log(bool echo_to_stderr);
std::string libbpf_log_tail(std::size_t max_lines);

}  // namespace procsentry
