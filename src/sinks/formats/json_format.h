// JSON Lines: one object per event, stable keys (docs/json-schema.md), valid UTF-8 always.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/time_format.h"
#include "sinks/formats/formatter.h"

namespace procsentry {

// A format whose event is one JSON object (native, ECS, OCSF): the object with its newline
// for JSON Lines, the object alone for what frames it (RFC 5424's message body, the store).
class JsonEventFormatter : public Formatter {
 public:
  void append(std::string& out, const Event& event) override {
    append_object(out, event);
    out += '\n';
  }
  virtual void append_object(std::string& out, const Event& event) = 0;
};

// The native format.
class JsonFormatter final : public JsonEventFormatter {
 public:
  // The object and its newline.
  void append(std::string& out, const Event& event) override;
  // The object alone (RFC 5424 and the store carry it as it is).
  void append_object(std::string& out, const Event& event) override;

 private:
  const std::string& id_members(const Event& event);

  Rfc3339Formatter time_;
  // `,"host_id":"...","boot_id":"..."`: the same for every event of a run, so escaped once and
  // rebuilt only when the event's ids differ from those it was made of.
  struct IdMembers {
    bool ready = false;
    std::string host, boot, json;
  } ids_;
  // Where an event is written before one append to the caller's string (see Cursor).
  std::unique_ptr<char[]> scratch_;
  std::size_t scratch_capacity_ = 0;
};

}  // namespace procsentry
