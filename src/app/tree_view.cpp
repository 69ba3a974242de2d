#include "app/tree_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_set>
#include <vector>

#include "core/cgroups.h"
#include "core/text_escape.h"

namespace procsentry {
namespace {

constexpr std::string_view kHeader = "PID      USER      CONTAINER     TREE";
constexpr std::size_t kContainerShown = 12;

struct Node {
  const ProcessRecord* process;
  std::size_t depth;
  std::string branches;   // the drawing in front of this process ("│  ├─ ")
  std::string_view argv;  // the process's argv as shown (masked when it held a secret)
  bool argv_redacted = false;
};

std::size_t columns(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

// Cuts escaped text to `width` display columns, marking the cut with an ellipsis.
void append_clipped(std::string& out, std::string_view text, std::size_t width) {
  if (columns(text) <= width) {
    out += text;
    return;
  }
  std::size_t at = 0;
  for (std::size_t seen = 0; at < text.size(); ++at) {
    if ((static_cast<unsigned char>(text[at]) & 0xc0) != 0x80 && seen++ == width - 1) break;
  }
  out += text.substr(0, at);
  out += "\xe2\x80\xa6";  // …
}

void append_command(std::string& out, const ProcessRecord& p, std::string_view argv) {
  if (p.image.empty()) {  // kernel threads run no file
    out += '[';
    append_terminal_escaped(out, p.comm);
    out += ']';
  } else {
    append_terminal_escaped(out, p.image);
  }
  std::string_view rest = argv;
  for (bool first = true; !rest.empty(); first = false) {
    std::size_t nul = rest.find('\0');
    if (!first) {  // argv[0] repeats the image
      out += ' ';
      append_shell_quoted(out, rest.substr(0, nul));
    }
    rest.remove_prefix(nul == std::string_view::npos ? rest.size() : nul + 1);
  }
  if (p.argv_truncated) out += " [truncated]";
}

void append_json_line(std::string& out, const Node& n, UserNames& users) {
  const ProcessRecord& p = *n.process;
  fmt::format_to(std::back_inserter(out), R"({{"pid":{},"ppid":{},"depth":{},"process_uid":)", p.pid, p.ppid, n.depth);
  append_json_string(out, p.process_uid.view());
  fmt::format_to(std::back_inserter(out), R"(,"uid":{})", p.uid);
  if (auto user = users.name(p.uid); !user.empty()) {
    out += R"(,"user":)";
    append_json_string(out, user);
  }
  out += R"(,"comm":)";
  append_json_string(out, p.comm);
  if (!p.image.empty()) {
    out += R"(,"image":)";
    append_json_string(out, p.image);
  }
  out += R"(,"argv":)";
  append_json_nul_list(out, n.argv);
  if (!is_valid_utf8(n.argv)) {
    out += R"(,"argv_b64":")";
    append_base64(out, n.argv);
    out += '"';
  }
  if (p.argv_truncated) out += R"(,"argv_truncated":true)";
  if (n.argv_redacted) out += R"(,"argv_redacted":true)";
  if (!p.cgroup.empty()) {
    out += R"(,"cgroup":)";
    append_json_string(out, p.cgroup);
  }
  if (auto id = container_id_from_cgroup(p.cgroup); !id.empty()) {
    out += R"(,"container_id":)";
    append_json_string(out, id);
  }
  fmt::format_to(std::back_inserter(out), R"(,"seeded":{}}})", p.seeded ? "true" : "false");
  out += '\n';
}

void append_text_line(std::string& out, const Node& n, UserNames& users) {
  const ProcessRecord& p = *n.process;
  std::string line = fmt::format("{:<8} ", p.pid);
  std::string cell;
  if (auto user = users.name(p.uid); !user.empty()) {
    append_terminal_escaped(cell, user);
  } else {
    cell = std::to_string(p.uid);
  }
  append_clipped(line, cell, 9);
  for (std::size_t w = columns(cell); w < 10; ++w) line += ' ';
  cell.clear();
  append_terminal_escaped(cell, container_id_from_cgroup(p.cgroup).substr(0, kContainerShown));
  line += cell;
  for (std::size_t w = columns(cell); w < 14; ++w) line += ' ';
  line += n.branches;
  cell.clear();
  append_command(cell, p, n.argv);
  std::size_t used = columns(line);
  append_clipped(line, cell, used < kTreeWidth ? kTreeWidth - used : 1);
  out += line;
  out += '\n';
}

}  // namespace

Result<std::size_t> render_tree(ProcessTable& table, UserNames& users, std::uint32_t root, bool json, std::string& out,
                                const ArgvRedaction& redact) {
  // Children by parent as the kernel sees them now (parent_of follows reparenting).
  std::map<std::uint32_t, std::vector<const ProcessRecord*>> children;
  std::vector<const ProcessRecord*> roots;
  std::vector<const ProcessRecord*> all;
  for (const auto& [pid, record] : table.processes()) all.push_back(&record);
  for (const ProcessRecord* p : all) {
    const ProcessRecord* parent = p->pid == p->ppid ? nullptr : table.parent_of(*p);
    if (parent != nullptr) {
      children[parent->pid].push_back(p);
    } else {
      roots.push_back(p);
    }
  }
  auto by_pid = [](const ProcessRecord* a, const ProcessRecord* b) { return a->pid < b->pid; };
  for (auto& [pid, list] : children) std::sort(list.begin(), list.end(), by_pid);
  std::sort(roots.begin(), roots.end(), by_pid);
  if (root != 0) {
    const ProcessRecord* start = table.find(root);
    if (start == nullptr) return Error{fmt::format("no process {} (it is not running)", root)};
    roots = {start};
  }

  if (!json) {
    out += kHeader;
    out += '\n';
  }
  // Depth first, iteratively (a deep chain cannot overflow the stack); `seen` guards
  // against a cycle a corrupt /proc snapshot could describe.
  std::unordered_set<std::uint32_t> seen;
  std::vector<std::pair<Node, std::string>> stack;  // node, the prefix its children inherit
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back({Node{*it, 0, "", {}, false}, ""});
  std::size_t shown = 0;
  std::string masked;
  while (!stack.empty()) {
    auto [node, inherited] = std::move(stack.back());
    stack.pop_back();
    if (!seen.insert(node.process->pid).second) continue;
    node.argv = node.process->argv;
    if (redact && redact(node.process->argv, masked)) {
      node.argv = masked;
      node.argv_redacted = true;
    }
    if (json) {
      append_json_line(out, node, users);
    } else {
      append_text_line(out, node, users);
    }
    ++shown;
    auto found = children.find(node.process->pid);
    if (found == children.end()) continue;
    const auto& kids = found->second;
    for (std::size_t i = kids.size(); i-- > 0;) {
      bool last = i + 1 == kids.size();
      Node child{kids[i], node.depth + 1, inherited + (last ? "└─ " : "├─ "), {}, false};
      stack.push_back({std::move(child), inherited + (last ? "   " : "│  ")});
    }
  }
  return shown;
}

}  // namespace procsentry
