// libFuzzer: arbitrary bytes as a stream of records (split by their declared sizes) through
// what hostile bytes reach in production: decode, enrichment (process table, lineage, user
// names, container ids) and every formatter. Asserts what the outputs promise: JSON Lines (native,
// ECS, OCSF) and the store row's JSON are valid UTF-8 JSON, one line each; RFC 5424 carries that
// JSON; the store row reads back whole; the table is UTF-8 with no control byte.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <span>

#include "app/pipeline.h"
#include "core/text_escape.h"
#include "platform/machine.h"
#include "procsentry/wire/wire.h"
#include "sinks/formats/ecs_format.h"
#include "sinks/formats/json_format.h"
#include "sinks/formats/ocsf_format.h"
#include "sinks/formats/rfc5424_format.h"
#include "sinks/formats/table_format.h"
#include "store/store_row.h"

namespace procsentry {
namespace {

void require(bool ok, const char* what, std::string_view text) {
  if (ok) return;
  std::fprintf(stderr, "pipeline_fuzz: %s: %.*s\n", what, static_cast<int>(text.size()), text.data());
  std::abort();
}

bool is_json_object(std::string_view text) {
  const auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_object();
}

// No C0 control, DEL or C1 control (U+0080-U+009F, which some terminals obey) in `text`.
bool has_no_control(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xa0) return false;
  }
  return true;
}

// Every formatter on every event the pipeline lets through.
class CheckingSink final : public Sink {
 public:
  void write(const Event& event) override {
    out_.clear();
    json_.append(out_, event);
    require(is_valid_utf8(out_), "JSON Lines is not UTF-8", out_);
    require(!out_.empty() && out_.find('\n') == out_.size() - 1, "JSON Lines is not one line", out_);
    require(is_json_object(out_), "JSON Lines does not parse", out_);

    for (JsonEventFormatter* schema :
         {static_cast<JsonEventFormatter*>(&ecs_), static_cast<JsonEventFormatter*>(&ocsf_)}) {
      out_.clear();
      schema->append(out_, event);
      require(is_valid_utf8(out_), "ECS/OCSF is not UTF-8", out_);
      require(!out_.empty() && out_.find('\n') == out_.size() - 1, "ECS/OCSF is not one line", out_);
      require(is_json_object(out_), "ECS/OCSF does not parse", out_);
    }

    out_.clear();
    syslog_ecs_.append(out_, event);
    require(is_valid_utf8(out_), "RFC 5424 (ECS) is not UTF-8", out_);
    const std::size_t ecs_at = out_.find(" - {");
    require(ecs_at != std::string::npos && is_json_object(std::string_view(out_).substr(ecs_at + 3)),
            "RFC 5424 does not carry the ECS object", out_);

    out_.clear();
    table_.append_line(out_, event);
    require(is_valid_utf8(out_), "the table is not UTF-8", out_);
    require(has_no_control(out_), "a control byte reaches the table", out_);

    out_.clear();
    syslog_.append(out_, event);
    require(is_valid_utf8(out_), "RFC 5424 is not UTF-8", out_);
    const std::size_t json_at = out_.find(" - {");
    require(json_at != std::string::npos && is_json_object(std::string_view(out_).substr(json_at + 3)),
            "RFC 5424 does not carry the JSON object", out_);

    out_.clear();
    row_.append(out_, event);
    const auto row = StoreRow::parse(out_);
    require(row.has_value() && row->kind == event.kind && row->time_ns == event.time_ns, "the store row is lost", out_);
    require(is_valid_utf8(row->json) && is_json_object(row->json), "the store row's JSON does not parse", row->json);
  }
  void flush() override {}

 private:
  JsonFormatter json_;
  TableFormatter table_{false, true};  // the long form shows every field
  Rfc5424Formatter syslog_{"fuzz-host", 1};
  EcsFormatter ecs_{EventSource{"fuzz-host", false}};
  OcsfFormatter ocsf_{EventSource{"fuzz-host", false}};
  Rfc5424Formatter syslog_ecs_{"fuzz-host", 1, std::make_shared<EcsFormatter>(EventSource{"fuzz-host", false})};
  StoreRowFormatter row_;
  std::string out_;
};

}  // namespace
}  // namespace procsentry

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace procsentry;
  static Decoder decoder(ClockMapping{1'700'000'000'000'000'000});
  static UserNames users(user_database());
  static const Filter everything(FilterOptions{});
  static std::FILE* diagnostics = std::fopen("/dev/null", "w");
  static CheckingSink sink;
  // A table per input, as a replay has: no /proc; lineage and ancestry from the records alone.
  ProcessTable table(ProcessUidScheme("", 10'000'000), ProcessTableOptions{nullptr, true});
  EventPipeline pipeline(decoder, Enrichment{table, users}, everything, sink, diagnostics);
  std::span<const std::uint8_t> bytes(data, size);
  while (bytes.size() >= sizeof(ps_header)) {
    ps_header hdr{};
    std::memcpy(&hdr, bytes.data(), sizeof(hdr));
    if (hdr.size < sizeof(ps_header) || hdr.size > bytes.size()) break;
    pipeline.on_record(bytes.first(hdr.size));
    bytes = bytes.subspan(hdr.size);
  }
  pipeline.on_batch_end();
  return 0;
}
