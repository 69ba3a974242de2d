#include "kernel_emulation/schedule.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace kemu {
namespace {

const char* point_name(Point point) {
  switch (point) {
    case Point::pool_alloc:
      return "pool_alloc";
    case Point::pool_free:
      return "pool_free";
    case Point::copy_memory:
      return "copy_memory";
    case Point::spin_acquire:
      return "spin_acquire";
    case Point::spin_release:
      return "spin_release";
    case Point::message_send:
      return "message_send";
    case Point::callback_enter:
      return "callback_enter";
    case Point::callback_return:
      return "callback_return";
    case Point::read_pend:
      return "read_pend";
  }
  return "?";
}

struct Member {
  std::thread::id id;
  std::size_t stage = 0;  // index of the next meeting point
  bool published = false;
};

// The harness's scheduler, not the driver's state: one mutex, and a flag read first so the
// primitives cost one atomic load when nothing is armed.
struct Overlap {
  std::atomic<bool> active{false};
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Point> meet_at;
  std::chrono::milliseconds deadline{0};
  std::chrono::steady_clock::time_point armed_at;
  Member members[2];
  int count = 0;
  std::vector<int> arrivals;  // per meeting point
  std::vector<int> order;     // per meeting point: who arrived first, and so resumes first
  OverlapResult result;

  bool both_met_last() const { return !arrivals.empty() && arrivals.back() == 2; }
  bool window_open() const { return both_met_last() && !(members[0].published && members[1].published); }
  int index_of(std::thread::id id) const {
    for (int i = 0; i < count; ++i) {
      if (members[i].id == id) return i;
    }
    return -1;
  }
  void fail(const std::string& why) {
    if (!result.failure.empty()) return;
    result.failure = why;
    active = false;
    changed.notify_all();
  }
  // Waits for `done` or the deadline; false (and the overlap failed) on the deadline.
  template <typename Done>
  bool wait(std::unique_lock<std::mutex>& lock, Done done, const std::string& what) {
    auto until = armed_at + deadline;
    if (changed.wait_until(lock, until, [&] { return !active || done(); })) return active || done();
    fail("forced overlap: " + what + " within " + std::to_string(deadline.count()) + " ms");
    return false;
  }
};

Overlap& overlap() {
  static Overlap o;
  return o;
}

thread_local bool t_in_create_callback = false;

struct Hook {
  std::atomic<bool> armed{false};
  std::mutex mutex;
  Point point = Point::pool_alloc;
  std::function<void()> run;
};

Hook& hook() {
  static Hook h;
  return h;
}

// The armed hook, if `point` is its point: taken, so it runs once.
std::function<void()> take_hook(Point point) {
  Hook& h = hook();
  if (!h.armed.load(std::memory_order_acquire)) return {};
  std::lock_guard lock(h.mutex);
  if (!h.armed || h.point != point) return {};
  h.armed = false;
  return std::move(h.run);
}

// A member parks at each meeting point. Both parked at stage k: the first to arrive runs
// alone to its next meeting point (or, after the last, until it publishes), then the second
// runs alone to the same place. So the pair runs serialized, in the same order every run.
void member_point(Overlap& o, std::unique_lock<std::mutex>& lock, int me, Point point) {
  Member& m = o.members[me];
  const std::size_t last = o.meet_at.size() - 1;
  if (m.stage <= last && point == o.meet_at[m.stage]) {
    const std::size_t stage = m.stage;
    if (++o.arrivals[stage] == 1) o.order[stage] = me;
    o.changed.notify_all();
    const int first = o.order[stage];
    const int other = 1 - me;
    bool ok;
    if (me == first) {
      ok = o.wait(
          lock, [&] { return o.arrivals[stage] == 2; },
          std::string("no second creation callback reached ") + point_name(point));
    } else if (stage < last) {
      ok = o.wait(
          lock, [&] { return o.arrivals[stage + 1] > 0; },
          std::string("the first paired callback did not reach ") + point_name(o.meet_at[stage + 1]));
    } else {
      ok = o.wait(
          lock, [&] { return o.members[other].published; },
          "the first paired callback did not queue its record or return");
    }
    if (ok) m.stage++;
    return;
  }
  if (m.stage <= last) {
    if (point == Point::callback_return) {
      o.fail(std::string("a paired callback returned before reaching ") + point_name(o.meet_at[m.stage]));
    }
    return;
  }
  if (point == Point::spin_release || point == Point::callback_return) {
    m.published = true;
    o.changed.notify_all();
    if (o.members[0].published && o.members[1].published) {
      o.result.met = true;
      o.active = false;
    }
  } else if (point == Point::spin_acquire && m.published) {
    o.wait(
        lock, [&] { return !o.window_open(); }, "the other paired callback did not queue its record");
  }
}

}  // namespace

void on_next(Point point, std::function<void()> run) {
  Hook& h = hook();
  std::lock_guard lock(h.mutex);
  h.point = point;
  h.run = std::move(run);
  h.armed = h.run != nullptr;
}

void schedule_point(Point point) {
  if (auto run = take_hook(point)) run();
  Overlap& o = overlap();
  if (!o.active.load(std::memory_order_acquire)) return;
  std::unique_lock lock(o.mutex);
  if (!o.active) return;
  int me = o.index_of(std::this_thread::get_id());
  if (me < 0 && t_in_create_callback && o.count < 2 && point == o.meet_at.front()) {
    me = o.count++;
    o.members[me].id = std::this_thread::get_id();
  }
  if (me >= 0) {
    member_point(o, lock, me, point);
  } else if (point == Point::callback_enter && t_in_create_callback) {
    // Any other creation callback waits until the pair is done: they are the only two in flight.
    o.wait(
        lock, [&] { return false; }, "the paired callbacks did not finish");
  } else if (point == Point::spin_acquire && o.window_open()) {
    o.wait(
        lock, [&] { return !o.window_open(); }, "the paired callbacks did not queue their records");
  }
}

void enter_create_callback() {
  t_in_create_callback = true;
  schedule_point(Point::callback_enter);
}

void leave_create_callback() {
  schedule_point(Point::callback_return);
  t_in_create_callback = false;
}

void force_overlap(std::vector<Point> meet_at, int deadline_ms) {
  Overlap& o = overlap();
  std::lock_guard lock(o.mutex);
  o.meet_at = std::move(meet_at);
  o.deadline = std::chrono::milliseconds(deadline_ms);
  o.armed_at = std::chrono::steady_clock::now();
  o.members[0] = Member{};
  o.members[1] = Member{};
  o.count = 0;
  o.arrivals.assign(o.meet_at.size(), 0);
  o.order.assign(o.meet_at.size(), -1);
  o.result = OverlapResult{};
  o.result.armed = true;
  o.active = !o.meet_at.empty();
}

OverlapResult overlap_result() {
  Overlap& o = overlap();
  std::lock_guard lock(o.mutex);
  OverlapResult r = o.result;
  if (r.armed && !r.met && r.failure.empty()) r.failure = "forced overlap: fewer than two creation callbacks came";
  return r;
}

void disarm_overlap() {
  on_next(Point::pool_alloc, nullptr);
  Overlap& o = overlap();
  std::lock_guard lock(o.mutex);
  o.active = false;
  o.result = OverlapResult{};
  o.changed.notify_all();
}

}  // namespace kemu
