// Elastic Common Schema (ECS) JSON: one object per event, nested field sets (process.*,
// event.*, host.*...); what ECS has no field for is carried under procsentry.* with its native
// name (README, "Standard schemas"). Checked against ECS's own fields.csv (tests/schemas).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/time_format.h"
#include "sinks/formats/event_format.h"

namespace procsentry {

class EcsFormatter final : public JsonEventFormatter {
 public:
  static constexpr std::string_view kEcsVersion = "9.5.0-dev";  // the fields.csv it is tested against

  explicit EcsFormatter(EventSource source) : source_(std::move(source)) {}
  void append_object(std::string& out, const Event& event) override;

 private:
  EventSource source_;
  Rfc3339Formatter time_;
  std::unique_ptr<char[]> scratch_;
  std::size_t scratch_capacity_ = 0;
  std::string command_line_;                   // reused: a joined argv
  std::vector<std::string_view> parent_args_;  // reused: the parent's argv split
};

}  // namespace procsentry
