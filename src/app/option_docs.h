// The man page procsentry(8) and the bash completion, generated from the option table that
// --help prints (app/options.cpp), so none of the three can drift from the others.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace procsentry {

std::string man_page(const CLI::App& app, const std::string& version);
std::string bash_completion(const CLI::App& app);

}  // namespace procsentry
