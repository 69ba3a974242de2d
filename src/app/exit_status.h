// Exit statuses of both clients, and the one-line report of why one cannot start.
#pragma once

#include <fmt/core.h>

#include <cstdio>

#include "core/result.h"

namespace procsentry {

// 0 clean stop, 1 failure while running, 2 cannot start (usage, privileges, kernel, device).
constexpr int kExitRuntimeError = 1;
constexpr int kExitCannotStart = 2;

// "procsentry: <what is wrong and what to do>" on stderr; returns `status`.
inline int report_error(const Error& error, int status = kExitCannotStart) {
  fmt::print(stderr, "procsentry: {}\n", error.message);
  return status;
}

}  // namespace procsentry
