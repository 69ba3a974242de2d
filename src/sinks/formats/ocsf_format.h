// OCSF (Open Cybersecurity Schema Framework) 1.x JSON: each event a Process Activity (class
// 1007: Launch for exec, fork, create and failed execs; Terminate for exit); lost events a Base
// Event. What OCSF has no attribute for is carried under `unmapped` with its native name
// (README, "Standard schemas"). Checked against OCSF's own dictionary, classes and objects
// (tests/schemas).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sinks/formats/event_format.h"

namespace procsentry {

class OcsfFormatter final : public JsonEventFormatter {
 public:
  static constexpr std::string_view kOcsfVersion = "1.9.0-dev";  // the schema it is tested against

  explicit OcsfFormatter(EventSource source) : source_(std::move(source)) {}
  void append_object(std::string& out, const Event& event) override;

 private:
  EventSource source_;
  std::unique_ptr<char[]> scratch_;
  std::size_t scratch_capacity_ = 0;
  std::string command_line_;                   // reused: a joined argv
  std::vector<std::string_view> parent_args_;  // reused: the parent's argv split
};

}  // namespace procsentry
