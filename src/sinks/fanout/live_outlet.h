// The live view (table or JSON Lines) written from its own thread, when other outputs run
// beside it: a slow terminal or pipe then delays only itself.
#pragma once

#include "sinks/fanout/outlet.h"
#include "sinks/fd_output/fd_output.h"

namespace procsentry {

class LiveOutlet final : public Outlet {
 public:
  explicit LiveOutlet(int fd) : out_(fd) {}
  std::string name() const override { return "the live view"; }
  void deliver(std::span<const EventSnapshot> events, std::stop_token) override {
    for (const auto& e : events) out_.buffer() += e.live;
    out_.flush();
  }
  bool dead() const override { return out_.failed(); }  // EPIPE: the reader went away

 private:
  FdOutput out_;
};

}  // namespace procsentry
