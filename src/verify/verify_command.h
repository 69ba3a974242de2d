// procsentry verify FILE|-|--db PATH: reads what a receiver got (JSON Lines, or the event
// store) and says, per boot, whether it is complete. Exit 0 complete, 1 something missing,
// 2 bad input (one line on `err`).
#pragma once

#include <cstdio>
#include <span>
#include <string>

namespace procsentry {

// `args`: what follows "verify" on the command line.
int run_verify(std::span<const std::string> args, std::FILE* out, std::FILE* err);

}  // namespace procsentry
