#include "redact/reloadable_redaction.h"

#include <fmt/core.h>

#include "redact/redact_config.h"

namespace procsentry {

Result<std::unique_ptr<Redactor>> ReloadableRedaction::read() const {
  RedactSettings settings;
  if (!path_.empty()) {
    auto file = load_config_file(path_);
    if (!file) return file.error();
    auto read = redact_from_config(*file);
    if (!read) return read.error();
    settings = std::move(*read);
  }
  if (command_line_) settings.enabled = *command_line_;
  if (!settings.enabled) return std::unique_ptr<Redactor>();
  auto redactor = Redactor::compile(settings);
  if (!redactor)
    return Error{fmt::format("{}: redact: {}", path_.empty() ? "--redact" : path_, redactor.error().message)};
  return std::move(*redactor);
}

Result<std::unique_ptr<ReloadableRedaction>> ReloadableRedaction::open(std::string path,
                                                                       std::optional<bool> command_line) {
  std::unique_ptr<ReloadableRedaction> redaction(new ReloadableRedaction(std::move(path), command_line));
  auto first = redaction->read();
  if (!first) return first.error();
  redaction->current_ = std::move(*first);
  return redaction;
}

}  // namespace procsentry
