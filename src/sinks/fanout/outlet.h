// Where a sink on its own thread delivers: the database, a syslog server, a file, the live
// view. Every call comes from that sink's thread only (SinkThread), so an outlet needs no
// locking of its own.
#pragma once

#include <cstdint>
#include <span>
#include <stop_token>
#include <string>

#include "sinks/fanout/event_snapshot.h"

namespace procsentry {

class Outlet {
 public:
  virtual ~Outlet() = default;
  // For messages and the summary: "database /var/lib/...", "syslog tcp://host:514".
  virtual std::string name() const = 0;
  // Writes the events in order. May block (a slow server): only this sink waits. Once `stop`
  // is requested it must give up waiting within about a second.
  virtual void deliver(std::span<const EventSnapshot> events, std::stop_token stop) = 0;
  // Called about every 100 ms while idle, and once more before the thread ends (`stop`
  // requested): timed commits, retention, reconnects.
  virtual void tick(std::stop_token /*stop*/) {}
  // Events it received but could not write (full disk, server gone at stop), for the summary.
  virtual std::uint64_t not_written() const { return 0; }
  // True once it can never write again (the reader of our stdout went away).
  virtual bool dead() const { return false; }
};

}  // namespace procsentry
