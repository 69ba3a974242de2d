// The redaction in force: the configuration file's `redact:` (none: the built-ins) under the
// command line's --redact, read again on SIGHUP with the rules. Swapped between polls on the
// event thread that uses it, so no event holds a view into the old redactor's buffers.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/event_redaction.h"
#include "core/result.h"
#include "redact/redactor.h"

namespace procsentry {

class ReloadableRedaction final : public EventRedaction {
 public:
  // `path` empty: no file. `command_line`: --redact as given there, which wins over the file.
  static Result<std::unique_ptr<ReloadableRedaction>> open(std::string path, std::optional<bool> command_line);
  bool redact(Event& event) override { return current_ != nullptr && current_->redact(event); }
  // Reads the file again without using it yet (null inside: redaction off).
  Result<std::unique_ptr<Redactor>> read() const;
  void use(std::unique_ptr<Redactor> next) { current_ = std::move(next); }
  Redactor* current() const { return current_.get(); }  // null: redaction off

 private:
  ReloadableRedaction(std::string path, std::optional<bool> command_line)
      : path_(std::move(path)), command_line_(command_line) {}

  std::string path_;
  std::optional<bool> command_line_;
  std::unique_ptr<Redactor> current_;
};

}  // namespace procsentry
