#include "sources/replay/replay_source.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>

#include "procsentry/wire/wire.h"

namespace procsentry {

Result<std::unique_ptr<ReplaySource>> ReplaySource::open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("cannot open {}: {}", path, std::strerror(errno))};
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::unique_ptr<ReplaySource>(new ReplaySource(std::move(bytes)));
}

Result<int> ReplaySource::poll(int /*timeout_ms*/, RecordHandler& handler) {
  if (done_.exchange(true)) return 0;
  std::span<const std::uint8_t> rest(bytes_);
  int delivered = 0;
  while (!rest.empty()) {
    ps_header hdr{};
    if (rest.size() < sizeof(hdr)) {
      handler.on_batch_end();
      return Error{fmt::format("replay: {} stray bytes at offset {} (not a whole record header)", rest.size(),
                               bytes_.size() - rest.size())};
    }
    std::memcpy(&hdr, rest.data(), sizeof(hdr));
    if (hdr.size < sizeof(hdr) || hdr.size > rest.size() || hdr.size > PS_RECORD_MAX) {
      handler.on_batch_end();
      return Error{fmt::format("replay: record at offset {} claims {} bytes, {} remain", bytes_.size() - rest.size(),
                               hdr.size, rest.size())};
    }
    handler.on_record(rest.first(hdr.size));
    rest = rest.subspan(hdr.size);
    ++delivered;
  }
  handler.on_batch_end();
  return delivered;
}

}  // namespace procsentry
