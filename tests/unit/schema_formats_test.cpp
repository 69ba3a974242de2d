// --format ecs and ocsf against the schemas' own definitions (tests/schemas: ECS fields.csv,
// OCSF dictionary, classes, objects and profiles), never against a list typed here: many events,
// hostile ones included, are formatted; each line must be one line of valid UTF-8 and parse;
// every ECS field must exist with a fitting type (procsentry.* is ours); every OCSF attribute
// must exist where it is written with a fitting type, every required one be present (class,
// inherited, profiles in use, objects) and every enum id be valid.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/text_escape.h"
#include "full_event.h"
#include "sinks/formats/ecs_format.h"
#include "sinks/formats/event_format.h"
#include "sinks/formats/ocsf_format.h"
#include "sinks/formats/rfc5424_format.h"

namespace procsentry {
namespace {

using nlohmann::json;

const std::string kSchemas = PROCSENTRY_SCHEMAS;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

json read_json(const std::string& relative) { return json::parse(read_file(kSchemas + "/" + relative)); }

// --- the events ---------------------------------------------------------------------------

// Strings the other tests throw at the writers: controls, bidi overrides, NUL, cut sequences.
const std::vector<std::string> kHostile = {"",
                                           std::string("a\0b", 3),
                                           "\x1b[31mred\x1b[0m",
                                           "\xe2\x80\xae"
                                           "evil",
                                           "\xc3",
                                           "\xf0\x9f\x98",
                                           "\"\\\n\t",
                                           "\xed\xa0\x80",
                                           "normal /usr/bin/ls",
                                           std::string(300, 'x'),
                                           "\xc0\xaf",
                                           "\x7f\xc2\x9b"};

// Every kind in its full (hostile) form, plus plain and degenerate ones.
struct Corpus {
  std::vector<std::unique_ptr<FullEvent>> full;
  std::vector<std::string> argv_storage;
  std::deque<Event> events;  // Events do not relocate (views into their storage)

  Corpus() {
    for (EventKind kind : {EventKind::exec, EventKind::exec_failed, EventKind::fork, EventKind::exit, EventKind::lost,
                           EventKind::create, EventKind::hash, EventKind::heartbeat}) {
      full.push_back(std::make_unique<FullEvent>(kind));
    }
    argv_storage.reserve(kHostile.size());
    for (const std::unique_ptr<FullEvent>& f : full) add(copy(f->event));
    for (const std::string& h : kHostile) {
      argv_storage.push_back(h + std::string(1, '\0') + h);
      const std::string& raw = argv_storage.back();
      for (const std::unique_ptr<FullEvent>& f : full) {
        Event e = copy(f->event);
        const Text text{h, true, false, static_cast<std::uint32_t>(h.size())};
        e.image = e.known_image = e.filename = e.cwd = e.command_line = e.parent_image = text;
        e.task.comm = h;
        e.user = e.group = h;
        e.parent_argv_raw = Text{raw, true, false, 0};
        if (e.kind == EventKind::exec) {
          e.argv_raw = Text{raw, true, false, 0};
          e.argv = {std::string_view(raw).substr(0, h.size()), std::string_view(raw).substr(h.size() + 1)};
        }
        add(std::move(e));
      }
    }
    // Degenerate: nothing optional known.
    for (const std::unique_ptr<FullEvent>& f : full) {
      Event e;
      e.kind = f->event.kind;
      e.time_ns = -1;
      e.task.has_uid_and_comm = e.kind != EventKind::create && e.kind != EventKind::hash;
      e.error = 99999;
      add(std::move(e));
    }
    Event unreadable = copy(full[0]->event);  // argv unreadable: no items, no image
    unreadable.argv.clear();
    unreadable.image = Text{};
    add(std::move(unreadable));
  }
  static Event copy(const Event& from) {
    Event e;
    e.kind = from.kind;
    e.time_ns = from.time_ns;
    e.seq = from.seq;
    e.heartbeat = from.heartbeat;
    e.host_id = from.host_id;
    e.boot_id = from.boot_id;
    e.task = from.task;
    e.image = from.image;
    e.filename = from.filename;
    e.cwd = from.cwd;
    e.argv_raw = from.argv_raw;
    e.argv = from.argv;
    e.argv_truncated = from.argv_truncated;
    e.argv_original_length = from.argv_original_length;
    e.argv_unreadable = from.argv_unreadable;
    e.argv_redacted = from.argv_redacted;
    e.is_script = from.is_script;
    e.exec_fd = from.exec_fd;
    e.image_uid = from.image_uid;
    e.image_mode = from.image_mode;
    e.image_memfd = from.image_memfd;
    e.image_deleted = from.image_deleted;
    e.image_upper_layer = from.image_upper_layer;
    e.script = from.script;
    e.cgroup_id = from.cgroup_id;
    e.loginuid = from.loginuid;
    e.audit_session = from.audit_session;
    e.pid_ns = from.pid_ns;
    e.tty = from.tty;
    e.error = from.error;
    e.parent_pid = from.parent_pid;
    e.parent_tid = from.parent_tid;
    e.parent_start_time_ns = from.parent_start_time_ns;
    e.exit_code = from.exit_code;
    e.exit_signal = from.exit_signal;
    e.core_dumped = from.core_dumped;
    e.duration_ns = from.duration_ns;
    e.command_line = from.command_line;
    e.creator_pid = from.creator_pid;
    e.session_id = from.session_id;
    e.lost_count = from.lost_count;
    e.lost_cause = from.lost_cause;
    e.user = from.user;
    e.known_image = from.known_image;
    e.process_uid = from.process_uid;
    e.parent_uid = from.parent_uid;
    e.parent_image = from.parent_image;
    e.parent_argv_raw = from.parent_argv_raw;
    e.seeded = from.seeded;
    e.parent_seeded = from.parent_seeded;
    e.ancestry = from.ancestry;
    e.group = from.group;
    e.cgroup = from.cgroup;
    e.container_id = from.container_id;
    e.sha256 = from.sha256;
    e.sha256_missing = from.sha256_missing;
    e.rules = from.rules;
    return e;
  }
  void add(Event e) { events.push_back(std::move(e)); }
};

// Each event formatted: one line, valid UTF-8, parsed.
std::vector<json> format_all(EventFormat format, const Corpus& corpus, bool windows = false) {
  auto formatter = make_json_formatter(format, EventSource{"host-\xff", windows});
  std::vector<json> out;
  for (const Event& e : corpus.events) {
    std::string line;
    formatter->append(line, e);
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    EXPECT_TRUE(is_valid_utf8(line)) << line;
    out.push_back(json::parse(line));
  }
  return out;
}

// --- ECS ----------------------------------------------------------------------------------

// fields.csv's Field -> Type (RFC 4180 quoting).
std::map<std::string, std::string> ecs_fields() {
  std::map<std::string, std::string> types;
  std::istringstream in(read_file(kSchemas + "/ecs/fields.csv"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        cells.emplace_back();
      } else {
        cells.back() += c;
      }
    }
    if (cells.size() >= 5) types[cells[3]] = cells[4];
  }
  return types;
}

const std::regex kIso8601(R"(^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$)");

bool ecs_value_fits(const std::string& type, const json& v) {
  if (type == "keyword" || type == "wildcard" || type == "match_only_text" || type == "text" ||
      type == "constant_keyword") {
    return v.is_string();
  }
  if (type == "long" || type == "integer" || type == "short" || type == "byte") return v.is_number_integer();
  if (type == "float" || type == "scaled_float" || type == "double") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "date") return v.is_string() && std::regex_match(v.get<std::string>(), kIso8601);
  if (type == "object" || type == "flattened" || type == "nested") return v.is_object() || v.is_array();
  return false;
}

void check_ecs(const std::map<std::string, std::string>& fields, const json& value, const std::string& path,
               std::set<std::string>& seen) {
  if (path == "procsentry") return;  // ours
  auto field = fields.find(path);
  if (value.is_object() && (field == fields.end() || field->second == "object")) {
    for (const auto& [key, item] : value.items()) check_ecs(fields, item, path.empty() ? key : path + "." + key, seen);
    return;
  }
  if (field == fields.end()) {
    ADD_FAILURE() << path << " is no ECS field";
    return;
  }
  seen.insert(path);
  if (value.is_array()) {
    for (const json& item : value) EXPECT_TRUE(ecs_value_fits(field->second, item)) << path << ": " << item;
  } else {
    EXPECT_TRUE(ecs_value_fits(field->second, value)) << path << " (" << field->second << "): " << value;
  }
}

TEST(EcsFormat, EveryFieldIsEcsWithItsType) {
  const auto fields = ecs_fields();
  ASSERT_GT(fields.size(), 1000u);
  EXPECT_EQ(fields.at("ecs.version"), "keyword");
  Corpus corpus;
  std::set<std::string> seen;
  for (bool windows : {false, true}) {
    for (const json& event : format_all(EventFormat::ecs, corpus, windows)) {
      check_ecs(fields, event, "", seen);
      EXPECT_EQ(event["ecs"]["version"], std::string(EcsFormatter::kEcsVersion));
      EXPECT_TRUE(event["procsentry"].is_object());
    }
  }
  // The mapping the issue asks for is there (and so was checked above).
  for (const char* f : {"@timestamp",
                        "event.kind",
                        "event.category",
                        "event.type",
                        "event.action",
                        "process.pid",
                        "process.entity_id",
                        "process.executable",
                        "process.args",
                        "process.args_count",
                        "process.command_line",
                        "process.working_directory",
                        "process.start",
                        "process.end",
                        "process.exit_code",
                        "process.hash.sha256",
                        "process.parent.pid",
                        "process.parent.entity_id",
                        "process.user.id",
                        "process.group.id",
                        "user.id",
                        "user.name",
                        "host.name",
                        "container.id",
                        "ecs.version",
                        "process.title",
                        "event.sequence",
                        "host.id",
                        "host.boot.id"}) {
    EXPECT_TRUE(seen.count(f)) << f << " never written";
  }
}

TEST(EcsFormat, ArgsStartWithTheExecutableAndTheTitleKeepsArgvZero) {
  FullEvent exec(EventKind::exec);
  const std::string argv = std::string("-bash\0-c\0true", 13);
  exec.event.argv_raw = Text{argv, true, false, 0};
  exec.event.argv = {std::string_view(argv).substr(0, 5), std::string_view(argv).substr(6, 2),
                     std::string_view(argv).substr(9)};
  exec.event.image = Text{"/usr/bin/bash", true, false, 13};
  std::string line;
  EcsFormatter(EventSource{"h", false}).append(line, exec.event);
  const json e = json::parse(line);
  EXPECT_EQ(e["process"]["args"], json({"/usr/bin/bash", "-c", "true"}));
  EXPECT_EQ(e["process"]["title"], "-bash");
  EXPECT_EQ(e["process"]["command_line"], "/usr/bin/bash -c true");
  EXPECT_EQ(e["process"]["args_count"], 3);
  EXPECT_EQ(e["event"]["action"], "exec");
}

// --syslog --format ecs: the RFC 5424 message's body is the ECS object, the header unchanged.
TEST(EcsFormat, SyslogCarriesIt) {
  FullEvent exec(EventKind::exec);
  std::string message;
  Rfc5424Formatter("web-7", 812, make_json_formatter(EventFormat::ecs, EventSource{"web-7", false}))
      .append(message, exec.event);
  EXPECT_EQ(message.substr(0, 6), "<14>1 ");
  const std::size_t body = message.find(" web-7 procsentry 812 exec - {");
  ASSERT_NE(body, std::string::npos) << message;
  const json event = json::parse(message.substr(message.find(" - {") + 3));
  EXPECT_EQ(event["ecs"]["version"], std::string(EcsFormatter::kEcsVersion));
  EXPECT_EQ(event["host"]["name"], "web-7");
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

// --- OCSF ---------------------------------------------------------------------------------

// The OCSF schema as its source files define it: attributes merged along `extends` and
// `$include`d profiles, each remembering the profile it belongs to.
class Ocsf {
 public:
  Ocsf() : dictionary_(read_json("ocsf/dictionary.json")) {
    for (const auto& entry : std::filesystem::directory_iterator(kSchemas + "/ocsf/objects")) {
      json object = json::parse(read_file(entry.path().string()));
      objects_[object["name"]] = object;
    }
  }
  const json& object_attributes(const std::string& name) const {
    auto cached = merged_objects_.find(name);
    if (cached == merged_objects_.end())
      cached = merged_objects_.emplace(name, merged(objects_.at(name), "objects")).first;
    return cached->second;
  }
  json class_attributes(const std::string& relative) const {
    return merged(read_json("ocsf/events/" + relative), "events");
  }
  const json& dictionary(const std::string& attribute) const { return dictionary_["attributes"].at(attribute); }
  bool has_object(const std::string& name) const { return objects_.count(name) != 0; }
  const json& object(const std::string& name) const { return objects_.at(name); }
  // A type's primitive: string_t, integer_t, long_t, float_t, boolean_t, json_t, object.
  std::string primitive(std::string type) const {
    const json& types = dictionary_["types"]["attributes"];
    while (types.contains(type) && types[type].contains("type")) type = types[type]["type"];
    return type;
  }
  std::string uid_of_class(const std::string& relative) const {
    return read_json("ocsf/events/" + relative)["uid"].dump();
  }

 private:
  json parent_of(const json& definition, const std::string& kind) const {
    const std::string parent = definition["extends"];
    if (kind == "objects") return objects_.at(parent);
    for (const char* dir : {"", "system/"}) {
      std::ifstream probe(kSchemas + "/ocsf/events/" + dir + parent + ".json");
      if (probe) return read_json("ocsf/events/" + std::string(dir) + parent + ".json");
    }
    ADD_FAILURE() << "no parent " << parent;
    return json::object();
  }
  static void merge_into(json& into, const std::string& name, const json& attribute, const std::string& profile) {
    json& target = into[name];
    if (target.is_null()) target = json::object();
    json enums = target.value("enum", json::object());
    for (const auto& [key, value] : attribute.items()) target[key] = value;
    const json own_enums = attribute.value("enum", json::object());
    for (const auto& [key, value] : own_enums.items()) enums[key] = value;
    if (!enums.empty()) target["enum"] = enums;
    if (!profile.empty() && !target.contains("profile")) target["profile"] = profile;
  }
  json merged(const json& definition, const std::string& kind) const {
    json attributes = definition.contains("extends") ? merged(parent_of(definition, kind), kind) : json::object();
    const json& own = definition["attributes"];
    for (const auto& include : own.value("$include", json::array())) {
      const json profile = read_json("ocsf/" + include.get<std::string>());
      for (const auto& [name, attribute] : profile["attributes"].items()) {
        merge_into(attributes, name, attribute, profile["name"]);
      }
    }
    for (const auto& [name, attribute] : own.items()) {
      if (name != "$include") merge_into(attributes, name, attribute, "");
    }
    return attributes;
  }

  json dictionary_;
  std::map<std::string, json> objects_;
  mutable std::map<std::string, json> merged_objects_;
};

struct OcsfCheck {
  const Ocsf& schema;
  std::set<std::string> profiles;  // metadata.profiles of the event
  std::set<std::string> seen;

  bool fits(const std::string& primitive, const json& v) {
    if (primitive == "string_t") return v.is_string();
    if (primitive == "integer_t" || primitive == "long_t" || primitive == "timestamp_t") return v.is_number_integer();
    if (primitive == "float_t") return v.is_number();
    if (primitive == "boolean_t") return v.is_boolean();
    if (primitive == "json_t") return true;
    if (primitive == "object") return v.is_object();
    return false;
  }

  // `value` is the attribute `name` of something whose attributes are `attributes`.
  void attribute(const json& attributes, const std::string& name, const json& value, const std::string& path) {
    if (!attributes.contains(name)) {
      ADD_FAILURE() << path << ": no such attribute there";
      return;
    }
    seen.insert(path);
    const json& here = attributes[name];
    const json& word = schema.dictionary(name);
    const std::string type = here.value("type", word.value("type", std::string()));
    const bool array = word.value("is_array", false);
    if (array) {
      ASSERT_TRUE(value.is_array()) << path;
      for (const json& item : value) one(type, item, path + "[]");
    } else {
      one(type, value, path);
    }
    // The dictionary's values (0 Unknown, 99 Other) and those the class or object adds.
    json enums = word.value("enum", json::object());
    if (here.contains("enum")) {
      for (const auto& [key, item] : here["enum"].items()) enums[key] = item;
    }
    if (!enums.empty() && name != "class_uid" && name != "category_uid") {
      ASSERT_TRUE(value.is_number_integer()) << path;
      EXPECT_TRUE(enums.contains(value.dump())) << path << ": " << value << " not in the enum";
      if (word.contains("sibling") && attributes.contains(word["sibling"].get<std::string>()) &&
          enums.contains(value.dump())) {
        siblings_[word["sibling"].get<std::string>()] = enums[value.dump()]["caption"];
      }
    }
  }

  void one(const std::string& type, const json& value, const std::string& path) {
    if (type != "object" && !type.ends_with("_t")) {
      ASSERT_TRUE(schema.has_object(type)) << path << ": type " << type;
      ASSERT_TRUE(value.is_object()) << path;
      object(schema.object_attributes(type), schema.object(type), value, path);
      return;
    }
    EXPECT_TRUE(fits(schema.primitive(type), value)) << path << " (" << type << "): " << value;
  }

  // An object (or the event itself): its attributes, what it requires, its constraints.
  void object(const json& attributes, const json& definition, const json& value, const std::string& path) {
    std::map<std::string, json> siblings_before;
    siblings_.swap(siblings_before);
    for (const auto& [name, item] : value.items()) attribute(attributes, name, item, path + "." + name);
    for (const auto& [name, caption] : siblings_) {
      if (value.contains(name)) {
        EXPECT_EQ(value[name], caption) << path << "." << name;
      }
    }
    siblings_.swap(siblings_before);
    for (const auto& [name, attribute] : attributes.items()) {
      const bool in_use = !attribute.contains("profile") || attribute["profile"].is_null() ||
                          profiles.count(attribute["profile"].get<std::string>()) != 0;
      if (attribute.value("requirement", "") == "required" && in_use) {
        EXPECT_TRUE(value.contains(name)) << path << ": required " << name << " missing";
      }
    }
    if (definition.contains("constraints") && definition["constraints"].contains("at_least_one")) {
      bool any = false;
      for (const auto& name : definition["constraints"]["at_least_one"]) any = any || value.contains(name);
      EXPECT_TRUE(any) << path << ": none of " << definition["constraints"]["at_least_one"];
    }
  }

  std::map<std::string, json> siblings_;  // of the object being checked: name -> the caption its id says
};

TEST(OcsfFormat, EveryAttributeRequiredAndEnumPerTheSchema) {
  const Ocsf schema;
  EXPECT_EQ(read_json("ocsf/version.json")["version"], std::string(OcsfFormatter::kOcsfVersion));
  const json process_activity = schema.class_attributes("system/process_activity.json");
  const json base_event = schema.class_attributes("base_event.json");
  const json class_definition = read_json("ocsf/events/system/process_activity.json");
  Corpus corpus;
  std::set<std::string> seen;
  for (bool windows : {false, true}) {
    for (const json& event : format_all(EventFormat::ocsf, corpus, windows)) {
      OcsfCheck check{schema, {}, {}, {}};
      for (const auto& p : event["metadata"].value("profiles", json::array())) check.profiles.insert(p);
      const bool is_process_activity = event["class_uid"] == 1007;
      if (is_process_activity) {
        // 1007: the System Activity category (1) and the class's own uid (7).
        EXPECT_EQ(event["category_uid"].get<int>() * 1000 + class_definition["uid"].get<int>(), 1007);
      } else {
        EXPECT_EQ(event["class_uid"], 0) << event;
        EXPECT_EQ(event["category_uid"], 0);
      }
      EXPECT_EQ(event["type_uid"], event["class_uid"].get<int>() * 100 + event["activity_id"].get<int>());
      EXPECT_EQ(event["metadata"]["version"], std::string(OcsfFormatter::kOcsfVersion));
      check.object(is_process_activity ? process_activity : base_event, json::object(), event, "");
      seen.insert(check.seen.begin(), check.seen.end());
    }
  }
  for (const char* a :
       {".process.pid", ".process.uid", ".process.file.path", ".process.cmd_line", ".process.created_time",
        ".process.working_directory", ".process.user.uid", ".process.parent_process.pid", ".process.ancestry",
        ".actor.process.pid", ".device.hostname", ".metadata.product.version", ".launch_type_id", ".exit_code",
        ".unmapped", ".metadata.sequence", ".device.uid", ".device.boot_uid"}) {
    EXPECT_TRUE(seen.count(a)) << a << " never written";
  }
}

TEST(OcsfFormat, ActivitiesAndLaunchTypes) {
  OcsfFormatter format(EventSource{"h", false});
  auto of = [&](EventKind kind) {
    FullEvent full(kind);
    std::string line;
    format.append(line, full.event);
    return json::parse(line);
  };
  EXPECT_EQ(of(EventKind::exec)["activity_id"], 1);
  EXPECT_EQ(of(EventKind::exec)["launch_type_id"], 3);
  EXPECT_EQ(of(EventKind::fork)["launch_type_id"], 2);
  EXPECT_EQ(of(EventKind::create)["launch_type_id"], 1);
  EXPECT_EQ(of(EventKind::exit)["activity_id"], 2);
  EXPECT_EQ(of(EventKind::exit)["type_uid"], 100702);
  EXPECT_EQ(of(EventKind::exec_failed)["status_id"], 2);
  EXPECT_EQ(of(EventKind::exec)["time"], kTime / 1'000'000);
  EXPECT_EQ(of(EventKind::exec)["process"]["uid"], std::string(FullEvent(EventKind::exec).event.process_uid.view()));
  EXPECT_EQ(of(EventKind::lost)["unmapped"]["count"], 3);
}

// The checks above can fail: each kind of mistake in an event is caught.
TEST(SchemaChecks, CatchMistakes) {
  const auto fields = ecs_fields();
  std::set<std::string> seen;
  EXPECT_NONFATAL_FAILURE(check_ecs(fields, json::parse(R"({"process":{"pidd":1}})"), "", seen), "no ECS field");
  EXPECT_NONFATAL_FAILURE(check_ecs(fields, json::parse(R"({"process":{"pid":"1"}})"), "", seen), "process.pid");
  EXPECT_NONFATAL_FAILURE(check_ecs(fields, json::parse(R"({"@timestamp":"yesterday"})"), "", seen), "@timestamp");

  const Ocsf schema;
  const json process_activity = schema.class_attributes("system/process_activity.json");
  std::string line;
  OcsfFormatter(EventSource{"h", false}).append(line, FullEvent(EventKind::exit).event);
  const json good = json::parse(line);
  auto check = [&](const json& event) {
    OcsfCheck c{schema, {"host"}, {}, {}};
    c.object(process_activity, json::object(), event, "");
  };
  check(good);  // no failure
  json bad = good;
  bad.erase("time");
  EXPECT_NONFATAL_FAILURE(check(bad), "required time missing");
  bad = good;
  bad["activity_id"] = 42;
  EXPECT_NONFATAL_FAILURE(check(bad), "not in the enum");
  bad = good;
  bad["process"]["pid"] = "42";
  EXPECT_NONFATAL_FAILURE(check(bad), ".process.pid");
  bad = good;
  bad["process"]["bogus"] = 1;
  EXPECT_NONFATAL_FAILURE(check(bad), "no such attribute");
  bad = good;
  bad["activity_name"] = "Launch";
  EXPECT_NONFATAL_FAILURE(check(bad), "activity_name");
  bad = good;
  bad["process"]["file"].erase("name");
  EXPECT_NONFATAL_FAILURE(check(bad), "required name missing");
  bad = good;
  bad["actor"] = json::object();
  EXPECT_NONFATAL_FAILURE(check(bad), "none of");
}

}  // namespace
}  // namespace procsentry
