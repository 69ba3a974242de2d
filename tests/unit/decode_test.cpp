// The decoder against valid records of every type and against every malformed-field case.
#include "core/decode.h"

#include <gtest/gtest.h>

#include <cstring>

#include "support/record_builder.h"

namespace procsentry {
namespace {

using test::Bytes;

constexpr std::int64_t kBootToEpoch = 1'700'000'000'000'000'000;

class DecodeTest : public ::testing::Test {
 protected:
  // Keeps the record alive: the event's text fields are views into it.
  Result<Event*> decode(Bytes bytes) {
    record_ = std::move(bytes);
    return decoder_.decode(record_);
  }
  // Asserts failure with this kind and a message naming `mentions`.
  void expect_error(const Bytes& bytes, DecodeErrorKind kind, std::string_view mentions) {
    auto r = decoder_.decode(bytes);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(decoder_.last_error_kind(), kind) << r.error().message;
    EXPECT_NE(r.error().message.find(mentions), std::string::npos) << r.error().message;
  }
  Decoder decoder_{ClockMapping{kBootToEpoch}};
  Bytes record_;
};

TEST_F(DecodeTest, ExecRoundTrip) {
  test::ExecSpec spec;
  spec.argv = {"ls", "", "middle", "with space", ""};
  auto r = decode(test::exec_record(spec));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const Event& e = **r;
  EXPECT_EQ(e.kind, EventKind::exec);
  EXPECT_EQ(e.time_ns, kBootToEpoch + 2'000'000'000);
  EXPECT_EQ(e.task.pid, 4242u);
  EXPECT_EQ(e.task.ppid, 4100u);
  EXPECT_EQ(e.task.uid, 1000u);
  EXPECT_EQ(e.task.start_time_ns, kBootToEpoch + 1'000'000'000);
  EXPECT_EQ(e.task.comm, "ls");
  EXPECT_EQ(e.image.bytes, "/usr/bin/ls");
  EXPECT_EQ(e.filename.bytes, "/usr/bin/ls");
  EXPECT_EQ(e.cwd.bytes, "/home/alice");
  ASSERT_EQ(e.argv.size(), 5u);
  EXPECT_EQ(e.argv[1], "");
  EXPECT_EQ(e.argv[3], "with space");
  EXPECT_EQ(e.argv[4], "");
  EXPECT_FALSE(e.argv_truncated);
  EXPECT_FALSE(e.is_script);
}

// Views point into the record, so they outlive decode() as long as the record does.
TEST_F(DecodeTest, TextViewsPointIntoTheRecord) {
  auto r = decode(test::exec_record(test::ExecSpec{}));
  ASSERT_TRUE(r.has_value());
  const auto* begin = reinterpret_cast<const char*>(record_.data());
  for (std::string_view view : {(*r)->task.comm, (*r)->image.bytes, (*r)->argv[0]}) {
    EXPECT_GE(view.data(), begin);
    EXPECT_LE(view.data() + view.size(), begin + record_.size());
  }
}

TEST_F(DecodeTest, ExecArgvWithInvalidUtf8IsKeptAsBytes) {
  test::ExecSpec spec;
  spec.argv = {"x", std::string("\xff\xfe\x1b[31m", 6)};
  auto r = decode(test::exec_record(spec));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)->argv[1], std::string("\xff\xfe\x1b[31m", 6));
}

TEST_F(DecodeTest, TruncatedArgvKeepsPartialLastItemAndOriginalLength) {
  test::ExecSpec spec;
  spec.argv = {"prog", std::string(100, 'A'), "tail"};
  spec.argv_keep = 50;
  auto r = decode(test::exec_record(spec));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE((*r)->argv_truncated);
  EXPECT_EQ((*r)->argv_original_length, 5u + 101u + 5u);
  ASSERT_EQ((*r)->argv.size(), 2u);
  EXPECT_EQ((*r)->argv[1], std::string(45, 'A'));
}

TEST_F(DecodeTest, ScriptPathIsDerivedFromCwdAndFilename) {
  test::ExecSpec spec;
  spec.exec_flags = PS_EXEC_SCRIPT;
  spec.filename = "./././run.sh";
  spec.cwd = "/srv/app";
  auto r = decode(test::exec_record(spec));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE((*r)->is_script);
  EXPECT_EQ((*r)->script, "/srv/app/run.sh");

  spec.filename = "/opt/run.sh";
  r = decode(test::exec_record(spec));
  EXPECT_EQ((*r)->script, "/opt/run.sh");

  spec.filename = "run.sh";
  spec.cwd = "/";
  r = decode(test::exec_record(spec));
  EXPECT_EQ((*r)->script, "/run.sh");
}

TEST_F(DecodeTest, ExitSplitsCodeSignalAndLifetime) {
  test::TaskSpec task;
  auto r = decode(test::exit_record(task, 3 << 8, 1'500'000'000));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)->exit_code, 3);
  EXPECT_FALSE((*r)->exit_signal.has_value());
  EXPECT_EQ((*r)->duration_ns, 500'000'000);

  r = decode(test::exit_record(task, 9 | 0x80, 1'000'000'001));
  EXPECT_FALSE((*r)->exit_code.has_value());
  EXPECT_EQ((*r)->exit_signal, 9);
  EXPECT_TRUE((*r)->core_dumped);
  EXPECT_EQ((*r)->duration_ns, 1);

  r = decode(test::exit_record(task, 0, 10));  // exit before start: clamped, not an error
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)->duration_ns, 0);
}

TEST_F(DecodeTest, ForkExecFailedAndLost) {
  auto r = decode(test::fork_record(test::TaskSpec{}, 77, 5));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)->kind, EventKind::fork);
  EXPECT_EQ((*r)->parent_pid, 77u);
  EXPECT_EQ((*r)->parent_start_time_ns, kBootToEpoch + 5);

  r = decode(test::exec_failed_record(test::TaskSpec{}, 2, "/missing"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)->error, 2);
  EXPECT_EQ((*r)->filename.bytes, "/missing");

  r = decode(test::lost_record(12, PS_LOST_RINGBUF_FULL));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)->lost_count, 12u);
}

TEST_F(DecodeTest, WindowsCreateWithUtf16FieldsAndAnAbsentCommandLine) {
  test::RecordBuilder<ps_create> b(PS_REC_CREATE, 1'000, PS_CLOCK_UNIX_EPOCH);
  ps_create body = b.body();
  body.task.pid = 800;
  body.task.ppid = 4;
  body.creator_pid = 4;
  body.session_id = 1;
  body.image = b.add(std::string("C\0:\0\\\0x\0", 8), PS_STR_PRESENT | PS_STR_UTF16LE);
  b.set_body(body);
  auto r = decode(b.finish());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ((*r)->kind, EventKind::create);
  EXPECT_EQ((*r)->time_ns, 1'000);
  EXPECT_EQ((*r)->image.bytes, "C:\\x");
  EXPECT_FALSE((*r)->command_line.present);
  EXPECT_EQ((*r)->session_id, 1u);
}

// S-1-5-21-1-2-1001 in its binary form.
const std::string kSidBytes("\x01\x04\0\0\0\0\0\x05\x15\0\0\0\x01\0\0\0\x02\0\0\0\xe9\x03\0\0", 24);

// A create with the token block (PS_CREATE_TOKEN): the facts whose flags are set.
Bytes create_with_token(std::uint32_t token_flags, std::string_view sid,
                        std::uint32_t create_flags = PS_CREATE_PARENT_START_TIME | PS_CREATE_TOKEN) {
  test::RecordBuilder<ps_create> b(PS_REC_CREATE, 1'000, PS_CLOCK_UNIX_EPOCH);
  ps_create body = b.body();
  body.task.pid = 800;
  body.create_flags = create_flags;
  body.token_flags = token_flags;
  body.integrity_rid = 0x3000;
  body.elevated = 1;
  body.elevation_type = 2;
  body.logon_id = 0x2'0004c3a1;
  body.token_type = 1;
  if (!sid.empty()) body.user_sid = b.add(sid);
  b.set_body(body);
  return b.finish();
}

TEST_F(DecodeTest, WindowsCreateCarriesItsToken) {
  auto r = decode(create_with_token(PS_TOKEN_FLAGS_KNOWN, kSidBytes,
                                    PS_CREATE_PARENT_START_TIME | PS_CREATE_TOKEN | PS_CREATE_SUBSYSTEM_PROCESS));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE((*r)->subsystem_process);
  const WindowsToken& t = (*r)->token;
  EXPECT_EQ(t.user_sid, "S-1-5-21-1-2-1001");
  EXPECT_EQ(t.integrity_rid, 0x3000u);
  EXPECT_EQ(t.elevated, true);
  EXPECT_EQ(t.elevation_type, 2);
  EXPECT_EQ(t.logon_id, 0x2'0004c3a1u);
  EXPECT_EQ(t.token_type, 1);
}

TEST_F(DecodeTest, WindowsCreateKeepsOnlyTheTokenFactsItsFlagsName) {
  auto r = decode(create_with_token(PS_TOKEN_INTEGRITY, {}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const WindowsToken& t = (*r)->token;
  EXPECT_TRUE(t.user_sid.empty());
  EXPECT_FALSE((*r)->subsystem_process);
  EXPECT_EQ(t.integrity_rid, 0x3000u);
  EXPECT_FALSE(t.elevated || t.logon_id);
  // Without PS_CREATE_TOKEN the block is not read at all (a driver before it).
  r = decode(create_with_token(PS_TOKEN_FLAGS_KNOWN, {}, PS_CREATE_PARENT_START_TIME));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE((*r)->token.integrity_rid);
}

TEST_F(DecodeTest, WindowsCreateTokenErrors) {
  expect_error(create_with_token(PS_TOKEN_FLAGS_KNOWN, kSidBytes, PS_CREATE_TOKEN), DecodeErrorKind::bad_value,
               "without the parent's start time");
  expect_error(create_with_token(0x10, {}), DecodeErrorKind::bad_value, "unknown token flags");
  expect_error(create_with_token(PS_TOKEN_USER, {}), DecodeErrorKind::bad_value, "user_sid must be present");
  expect_error(create_with_token(0, kSidBytes), DecodeErrorKind::bad_value, "user_sid must be present");
  expect_error(create_with_token(PS_TOKEN_USER, kSidBytes.substr(0, 20)), DecodeErrorKind::bad_value, "is not a SID");
  std::string bad_revision = kSidBytes;
  bad_revision[0] = 2;
  expect_error(create_with_token(PS_TOKEN_USER, bad_revision), DecodeErrorKind::bad_value, "is not a SID");
  Bytes truncated = create_with_token(PS_TOKEN_FLAGS_KNOWN, kSidBytes);
  truncated.resize(PS_CREATE_PARENT_SIZE + 8);
  ps_header hdr;
  std::memcpy(&hdr, truncated.data(), sizeof(hdr));
  hdr.size = static_cast<std::uint32_t>(truncated.size());
  std::memcpy(truncated.data(), &hdr, sizeof(hdr));
  expect_error(truncated, DecodeErrorKind::too_short, "shorter than its body");
}

TEST_F(DecodeTest, EpochClockIsNotShifted) {
  test::RecordBuilder<ps_fork> b(PS_REC_FORK, 123, PS_CLOCK_UNIX_EPOCH);
  auto r = decode(b.finish());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)->time_ns, 123);
}

TEST_F(DecodeTest, Utf16FieldsAreConverted) {
  test::RecordBuilder<ps_exec_failed> b(PS_REC_EXEC_FAILED);
  ps_exec_failed body = b.body();
  body.error = 5;
  // "C:\é" + U+1F600 (surrogate pair) + an unpaired high surrogate
  const std::string utf16("C\0:\0\\\0\xe9\0\x3d\xd8\x00\xde\x3d\xd8", 14);
  body.filename = b.add(utf16, PS_STR_PRESENT | PS_STR_UTF16LE);
  b.set_body(body);
  auto r = decode(b.finish());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ((*r)->filename.bytes, "C:\\\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd");
}

TEST_F(DecodeTest, HeaderErrors) {
  Bytes good = test::fork_record(test::TaskSpec{}, 1, 1);
  expect_error(Bytes(good.begin(), good.begin() + 10), DecodeErrorKind::too_short, "shorter than a header");

  Bytes b = good;
  b[0] = 0x00;
  expect_error(b, DecodeErrorKind::bad_magic, "magic");
  b = good;
  b[2] = 9;
  expect_error(b, DecodeErrorKind::bad_version, "version 9");
  b = good;
  b[3] = 42;
  expect_error(b, DecodeErrorKind::bad_type, "type 42");
  b = good;
  b.push_back(0);
  expect_error(b, DecodeErrorKind::size_mismatch, "header says");
  b = good;
  b[16] = 7;
  expect_error(b, DecodeErrorKind::bad_clock, "clock 7");
}

TEST_F(DecodeTest, BodyShorterThanItsType) {
  test::RecordBuilder<ps_header> b(PS_REC_EXEC);
  expect_error(b.finish(), DecodeErrorKind::too_short, "exec record");
}

class ExecFieldErrors : public DecodeTest {
 protected:
  void SetUp() override { good_ = test::exec_record(test::ExecSpec{}); }
  Bytes with_argv(void (*mutate)(ps_str&)) {
    Bytes b = good_;
    auto body = test::read_body<ps_exec>(b);
    mutate(body.argv);
    test::write_body(b, body);
    return b;
  }
  Bytes with_image(void (*mutate)(ps_str&)) {
    Bytes b = good_;
    auto body = test::read_body<ps_exec>(b);
    mutate(body.image);
    test::write_body(b, body);
    return b;
  }
  Bytes good_;
};

TEST_F(ExecFieldErrors, OffsetPastTheEnd) {
  expect_error(with_image([](ps_str& s) { s.offset = 100000; }), DecodeErrorKind::field_out_of_bounds, "image field");
}

TEST_F(ExecFieldErrors, LengthPastTheEnd) {
  expect_error(with_argv([](ps_str& s) {
                 s.length = 0xffffffff;
                 s.original_length = 0xffffffff;
               }),
               DecodeErrorKind::field_out_of_bounds, "argv field");
}

TEST_F(ExecFieldErrors, OffsetIntoTheBody) {
  expect_error(with_image([](ps_str& s) { s.offset = 8; }), DecodeErrorKind::field_out_of_bounds, "image field");
}

TEST_F(ExecFieldErrors, UnknownFlags) {
  expect_error(with_image([](ps_str& s) { s.flags |= 0x100; }), DecodeErrorKind::bad_field_flags, "unknown flags");
}

TEST_F(ExecFieldErrors, ArgvWithoutListFlag) {
  expect_error(with_argv([](ps_str& s) { s.flags = PS_STR_PRESENT; }), DecodeErrorKind::bad_field_flags, "list flag");
}

TEST_F(ExecFieldErrors, ListFlagOnAPath) {
  expect_error(with_image([](ps_str& s) { s.flags |= PS_STR_NUL_LIST; }), DecodeErrorKind::bad_field_flags,
               "unexpected list flag");
}

TEST_F(ExecFieldErrors, AbsentFieldWithALength) {
  expect_error(with_image([](ps_str& s) { s.flags = 0; }), DecodeErrorKind::bad_field_length, "absent field");
}

TEST_F(ExecFieldErrors, OriginalLengthWithoutTruncation) {
  expect_error(with_image([](ps_str& s) { s.original_length = s.length + 1; }), DecodeErrorKind::bad_field_length,
               "original length");
}

TEST_F(ExecFieldErrors, TruncatedButNotShorter) {
  expect_error(with_image([](ps_str& s) { s.flags |= PS_STR_TRUNCATED; }), DecodeErrorKind::bad_field_length,
               "original length");
}

TEST_F(ExecFieldErrors, OddUtf16Length) {
  expect_error(with_image([](ps_str& s) {
                 s.flags |= PS_STR_UTF16LE;
                 s.length = 3;
                 s.original_length = 3;
               }),
               DecodeErrorKind::bad_field_length, "odd UTF-16");
}

TEST_F(ExecFieldErrors, ArgvWithoutFinalNul) {
  expect_error(with_argv([](ps_str& s) {
                 s.length -= 1;
                 s.original_length -= 1;
               }),
               DecodeErrorKind::bad_argv, "does not end with a NUL");
}

TEST_F(ExecFieldErrors, ArgcDisagreesWithItems) {
  Bytes b = good_;
  auto body = test::read_body<ps_exec>(b);
  body.argc = 7;
  test::write_body(b, body);
  expect_error(b, DecodeErrorKind::bad_argv, "argc is 7");
}

TEST_F(DecodeTest, AbsentFieldsAreAbsent) {
  test::RecordBuilder<ps_exec> b(PS_REC_EXEC);
  ps_exec body = b.body();
  body.argv.flags = PS_STR_NUL_LIST;
  b.set_body(body);
  auto r = decode(b.finish());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE((*r)->image.present);
  EXPECT_FALSE((*r)->argv_raw.present);
  EXPECT_TRUE((*r)->argv.empty());
}

TEST_F(DecodeTest, BadScalarValues) {
  expect_error(test::exec_failed_record(test::TaskSpec{}, 0, "x"), DecodeErrorKind::bad_value, "errno 0");
  expect_error(test::lost_record(0, PS_LOST_RINGBUF_FULL), DecodeErrorKind::bad_value, "count 0");
  expect_error(test::lost_record(1, 99), DecodeErrorKind::bad_value, "cause 99");
}

// Every prefix of every valid record is an error, never a crash or an over-read (ASan sees it).
TEST_F(DecodeTest, EveryTruncationIsAnError) {
  test::ExecSpec spec;
  const Bytes records[] = {test::exec_record(spec), test::fork_record(test::TaskSpec{}, 1, 1),
                           test::exit_record(test::TaskSpec{}, 0, 5), test::lost_record(1, 1),
                           test::exec_failed_record(test::TaskSpec{}, 2, "/x")};
  for (const Bytes& full : records) {
    for (std::size_t n = 0; n < full.size(); ++n) {
      Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_FALSE(decoder_.decode(cut).has_value()) << n;
    }
  }
}

}  // namespace
}  // namespace procsentry

namespace procsentry {
namespace {

TEST_F(DecodeTest, ExecContext) {
  test::ExecSpec spec;
  spec.task.start_time_ns = 123'456'789'012;
  spec.cgroup_id = 4242;
  spec.loginuid = 1000;
  spec.sessionid = 7;
  spec.pid_ns = 4026531836;
  spec.tty = "pts3";
  auto r = decode(test::exec_record(spec));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const Event& e = **r;
  EXPECT_EQ(e.cgroup_id, 4242u);
  EXPECT_EQ(e.loginuid, 1000u);
  EXPECT_EQ(e.audit_session, 7u);
  EXPECT_EQ(e.pid_ns, 4026531836u);
  EXPECT_EQ(e.tty, "pts3");
  EXPECT_EQ(e.task.start_time_raw_ns, 123'456'789'012u);  // the kernel's clock, for process_uid
}

TEST_F(DecodeTest, UnsetContextIdsAreAbsent) {
  auto r = decode(test::exec_record(test::ExecSpec{}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE((*r)->loginuid.has_value());
  EXPECT_FALSE((*r)->audit_session.has_value());
  EXPECT_TRUE((*r)->tty.empty());
}

TEST_F(DecodeTest, UnterminatedTtyStopsAtItsField) {
  test::ExecSpec spec;
  spec.tty = std::string(PS_TTY_NAME_LEN, 't');  // fills the field: no NUL
  auto r = decode(test::exec_record(spec));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ((*r)->tty, std::string(PS_TTY_NAME_LEN, 't'));
}

// Wire version 2: the image's inode facts, descriptor execs, memfds, deleted files.
TEST_F(DecodeTest, ImageFactsOfVersionTwo) {
  test::ExecSpec spec;
  spec.image = "/memfd:x (deleted)";
  spec.exec_flags = PS_EXEC_FD | PS_EXEC_IMAGE_INODE | PS_EXEC_IMAGE_MEMFD | PS_EXEC_IMAGE_UPPER;
  spec.image_uid = 1234;
  spec.image_mode = 0100000 | 04755;
  auto r = decode(test::exec_record(spec));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const Event& e = **r;
  EXPECT_TRUE(e.exec_fd);
  EXPECT_TRUE(e.image_memfd);
  EXPECT_FALSE(e.image_deleted);
  EXPECT_TRUE(e.image_upper_layer);
  ASSERT_TRUE(e.image_uid.has_value());
  EXPECT_EQ(*e.image_uid, 1234u);
  EXPECT_EQ(*e.image_mode, 0100000u | 04755u);
}

TEST_F(DecodeTest, InodeFactsAreAbsentWithoutTheirFlag) {
  test::ExecSpec spec;
  spec.image_uid = 7;
  spec.image_mode = 0755;
  auto r = decode(test::exec_record(spec));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE((*r)->image_uid.has_value());
  EXPECT_FALSE((*r)->image_mode.has_value());
}

TEST_F(DecodeTest, UnknownOrContradictoryExecFlagsAreErrors) {
  test::ExecSpec spec;
  spec.exec_flags = 0x40;
  expect_error(test::exec_record(spec), DecodeErrorKind::bad_value, "unknown flags");
  spec.exec_flags = PS_EXEC_IMAGE_MEMFD | PS_EXEC_IMAGE_DELETED;
  expect_error(test::exec_record(spec), DecodeErrorKind::bad_value, "memfd and deleted");
}

TEST_F(DecodeTest, UnreadableArgvSaysSoWithTheKernelsLength) {
  test::ExecSpec spec;
  spec.argv = {"prog", "secret"};
  spec.argv_unreadable = true;
  auto r = decode(test::exec_record(spec));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const Event& e = **r;
  EXPECT_TRUE(e.argv_unreadable);
  EXPECT_TRUE(e.argv_truncated);
  EXPECT_EQ(e.argv_original_length, 12u);
  EXPECT_TRUE(e.argv.empty());
}

TEST_F(ExecFieldErrors, UnreadableNeedsTruncatedAndNoBytes) {
  expect_error(with_argv([](ps_str& s) { s.flags |= PS_STR_UNREADABLE; }), DecodeErrorKind::bad_field_flags,
               "unreadable");
}

TEST_F(DecodeTest, TruncatedPathKeepsItsOriginalLength) {
  test::ExecSpec spec;
  spec.image = "/tmp/deep";
  spec.image_original = 5000;
  auto r = decode(test::exec_record(spec));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE((*r)->image.truncated);
  EXPECT_EQ((*r)->image.original_length, 5000u);
}

// A version 1 exec record (its body ends before the image facts) still decodes.
TEST_F(DecodeTest, VersionOneExecRecordsAreRead) {
  Bytes v2 = test::exec_record(test::ExecSpec{});
  auto body = test::read_body<ps_exec>(v2);
  Bytes v1(v2.begin(), v2.begin() + PS_EXEC_V1_SIZE);
  v1.insert(v1.end(), v2.begin() + sizeof(ps_exec), v2.end());
  for (ps_str* s : {&body.image, &body.filename, &body.cwd, &body.argv}) {
    if (s->flags & PS_STR_PRESENT) s->offset -= static_cast<ps_u32>(sizeof(ps_exec) - PS_EXEC_V1_SIZE);
  }
  body.hdr.version = 1;
  body.hdr.size = static_cast<std::uint32_t>(v1.size());
  std::memcpy(v1.data(), &body, PS_EXEC_V1_SIZE);
  auto r = decode(v1);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ((*r)->image.bytes, "/usr/bin/ls");
  EXPECT_FALSE((*r)->image_uid.has_value());
  // Version 1 knows neither the new flags nor unreadable fields.
  body.exec_flags = PS_EXEC_FD;
  std::memcpy(v1.data(), &body, PS_EXEC_V1_SIZE);
  expect_error(v1, DecodeErrorKind::bad_value, "unknown flags");
}

}  // namespace
}  // namespace procsentry
