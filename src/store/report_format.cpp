#include "store/report_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "core/names.h"
#include "core/text_escape.h"
#include "core/time_format.h"

namespace procsentry {
namespace {

std::string escaped(std::string_view text) {
  std::string out;
  append_terminal_escaped(out, text);
  return out;
}

std::string time_text(std::int64_t ns) {
  std::string out;
  Rfc3339Formatter().append(out, ns);
  return out;
}

// Columns on a terminal: characters, not bytes (escaped text is printable UTF-8).
std::size_t width_of(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// One section: a title, a header and rows of cells already escaped; counts right-aligned,
// texts left-aligned, each column as wide as its widest cell (the last one is not padded).
class Section {
 public:
  Section(std::string title, std::vector<std::string> header, std::vector<bool> right)
      : title_(std::move(title)), header_(std::move(header)), right_(std::move(right)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void append_to(std::string& out, std::string_view footer) const {
    out += '\n';
    out += title_;
    out += '\n';
    if (rows_.empty()) {
      out += "  (none)\n";
      return;
    }
    std::vector<std::size_t> widths(header_.size());
    for (std::size_t c = 0; c < header_.size(); ++c) {
      widths[c] = width_of(header_[c]);
      for (const auto& row : rows_) widths[c] = std::max(widths[c], width_of(row[c]));
    }
    auto line = [&](const std::vector<std::string>& cells) {
      out += ' ';
      for (std::size_t c = 0; c < cells.size(); ++c) {
        const std::size_t pad = widths[c] - width_of(cells[c]);
        const bool last = c + 1 == cells.size();
        out += ' ';
        if (right_[c]) out.append(pad, ' ');
        out += cells[c];
        if (!right_[c] && !last) out.append(pad, ' ');
        if (!last) out += ' ';
      }
      out += '\n';
    };
    line(header_);
    for (const auto& row : rows_) line(row);
    if (!footer.empty()) {
      out += "  ";
      out += footer;
      out += '\n';
    }
  }

 private:
  std::string title_;
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// Nothing is dropped silently: a cut list says how many there are.
std::string more(std::size_t shown, std::uint64_t total) {
  if (shown >= total) return {};
  return fmt::format("({} of {}; --top N for more)", shown, total);
}

std::string user_text(const Report::User& u) {
  std::string uid = u.uid ? std::to_string(*u.uid) : "?";
  if (!u.user) return uid;
  return escaped(*u.user) + " (" + uid + ")";
}

std::string errno_cell(const std::optional<std::int64_t>& error) {
  if (!error) return "? (no errno recorded)";
  const int e = static_cast<int>(*error);
  std::string_view name = errno_name(e);
  std::string_view text = errno_text(e);
  return fmt::format("{} ({}){}{}", name.empty() ? "errno" : name, *error, text.empty() ? "" : ": ", text);
}

// "key":"text" (and "key_b64" when the bytes are not UTF-8), or "key":null.
void json_text(std::string& out, std::string_view key, const std::optional<std::string>& text) {
  append_json_string(out, key);
  out += ':';
  if (!text) {
    out += "null";
    return;
  }
  append_json_string(out, *text);
  if (!is_valid_utf8(*text)) {
    out += ',';
    append_json_string(out, std::string(key) + "_b64");
    out += ":\"";
    append_base64(out, *text);
    out += '"';
  }
}

void json_number(std::string& out, std::string_view key, const std::optional<std::int64_t>& n) {
  append_json_string(out, key);
  out += ':';
  out += n ? std::to_string(*n) : "null";
}

void json_time(std::string& out, std::string_view key, const std::optional<std::int64_t>& ns) {
  append_json_string(out, key);
  out += ':';
  if (ns) {
    out += '"';
    out += time_text(*ns);
    out += '"';
  } else {
    out += "null";
  }
}

template <typename T, typename Item>
void json_list(std::string& out, std::string_view key, const std::vector<T>& items, Item item) {
  append_json_string(out, key);
  out += ":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += ',';
    out += '{';
    item(items[i]);
    out += '}';
  }
  out += ']';
}

}  // namespace

void append_report_table(std::string& out, const Report& r) {
  out += fmt::format("Report from {} to {}\n", r.since_ns ? time_text(*r.since_ns) : "the first stored event",
                     r.until_ns ? time_text(*r.until_ns) : "the last stored event");
  out += fmt::format("{} events: {} execs of {} images, {} failed execs\n", r.events, r.execs, r.images_total,
                     r.failed_execs);

  Section images("Top images", {"EXECS", "IMAGE"}, {true, false});
  for (const auto& i : r.images) images.add({std::to_string(i.execs), escaped(i.image)});
  images.append_to(out, more(r.images.size(), r.images_total));

  Section users("Top users", {"EXECS", "USER (UID)"}, {true, false});
  for (const auto& u : r.users) users.add({std::to_string(u.execs), user_text(u)});
  users.append_to(out, more(r.users.size(), r.users_total));

  Section pairs("Parent -> child images", {"EXECS", "PARENT IMAGE", "", "IMAGE"}, {true, false, false, false});
  for (const auto& p : r.pairs) {
    pairs.add({std::to_string(p.execs), p.parent_image ? escaped(*p.parent_image) : "?", "->", escaped(p.image)});
  }
  pairs.append_to(out, more(r.pairs.size(), r.pairs_total));

  Section failures("Failed execs by errno", {"COUNT", "ERRNO"}, {true, false});
  for (const auto& f : r.failures) failures.add({std::to_string(f.count), errno_cell(f.error)});
  failures.append_to(out, {});

  Section seen(
      fmt::format("First-seen images: {} (executed in the window, never before it in the store)", r.first_seen_total),
      {"FIRST SEEN", "EXECS", "IMAGE", "SHA256", "PROCESS_UID"}, {false, true, false, false, false});
  for (const auto& s : r.first_seen) {
    seen.add({time_text(s.first_ns), std::to_string(s.execs), escaped(s.image), s.sha256.empty() ? "-" : s.sha256,
              s.process_uid.empty() ? "-" : escaped(s.process_uid)});
  }
  seen.append_to(out, more(r.first_seen.size(), r.first_seen_total));
}

void append_report_json(std::string& out, const Report& r) {
  out += '{';
  json_time(out, "since", r.since_ns);
  out += ',';
  json_time(out, "until", r.until_ns);
  out += fmt::format(",\"events\":{},\"execs\":{},\"failed_execs\":{},", r.events, r.execs, r.failed_execs);
  json_list(out, "top_images", r.images, [&](const Report::Image& i) {
    json_text(out, "image", i.image);
    out += fmt::format(",\"execs\":{}", i.execs);
  });
  out += fmt::format(",\"images_total\":{},", r.images_total);
  json_list(out, "top_users", r.users, [&](const Report::User& u) {
    json_text(out, "user", u.user);
    out += ',';
    json_number(out, "uid", u.uid);
    out += fmt::format(",\"execs\":{}", u.execs);
  });
  out += fmt::format(",\"users_total\":{},", r.users_total);
  json_list(out, "parent_child", r.pairs, [&](const Report::Pair& p) {
    json_text(out, "parent_image", p.parent_image);
    out += ',';
    json_text(out, "image", p.image);
    out += fmt::format(",\"execs\":{}", p.execs);
  });
  out += fmt::format(",\"parent_child_total\":{},", r.pairs_total);
  json_list(out, "failed_execs_by_errno", r.failures, [&](const Report::Failure& f) {
    json_number(out, "errno", f.error);
    out += ',';
    std::optional<std::string> name;
    if (f.error && !errno_name(static_cast<int>(*f.error)).empty()) {
      name = std::string(errno_name(static_cast<int>(*f.error)));
    }
    json_text(out, "error", name);
    out += fmt::format(",\"count\":{}", f.count);
  });
  out += ',';
  json_list(out, "first_seen_images", r.first_seen, [&](const Report::FirstSeen& s) {
    json_text(out, "image", s.image);
    out += ',';
    json_text(out, "sha256", s.sha256.empty() ? std::nullopt : std::optional<std::string>(s.sha256));
    out += ',';
    json_time(out, "first_seen", s.first_ns);
    out += fmt::format(",\"execs\":{},", s.execs);
    json_text(out, "process_uid", s.process_uid.empty() ? std::nullopt : std::optional<std::string>(s.process_uid));
  });
  out += fmt::format(",\"first_seen_total\":{}}}\n", r.first_seen_total);
}

}  // namespace procsentry
