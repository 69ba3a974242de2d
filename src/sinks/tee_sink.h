// Several sinks fed the same events in turn (e.g. `procsentry record --print`).
#pragma once

#include <vector>

#include "sinks/sink.h"

namespace procsentry {

class TeeSink final : public Sink {
 public:
  explicit TeeSink(std::vector<Sink*> sinks) : sinks_(std::move(sinks)) {}
  void write(const Event& event) override {
    for (Sink* s : sinks_) {
      if (!s->failed()) s->write(event);
    }
  }
  void flush() override {
    for (Sink* s : sinks_) s->flush();
  }
  // Failed only when every sink has: a closed terminal must not stop the recording.
  bool failed() const override {
    for (const Sink* s : sinks_) {
      if (!s->failed()) return false;
    }
    return true;
  }

 private:
  std::vector<Sink*> sinks_;
};

}  // namespace procsentry
