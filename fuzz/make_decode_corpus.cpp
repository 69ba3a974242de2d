// Writes the decoder's seed corpus: a valid record of every type and a few near misses.
#include <cstdio>
#include <string>

#include "support/record_builder.h"

namespace {
void save(const std::string& dir, const std::string& name, const procsentry::test::Bytes& bytes) {
  std::string path = dir + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}
}  // namespace

int main(int argc, char** argv) {
  using namespace procsentry::test;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_decode_corpus DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  ExecSpec exec;
  save(dir, "exec", exec_record(exec));
  ExecSpec context = exec;
  context.cgroup_id = 4242;
  context.loginuid = 1000;
  context.sessionid = 3;
  context.pid_ns = 4026531836u;
  context.tty = std::string(PS_TTY_NAME_LEN, 'p');  // unterminated
  save(dir, "exec_context", exec_record(context));
  exec.argv = {"sh", "", std::string("\xff\x1b[31m", 6), ""};
  exec.exec_flags = PS_EXEC_SCRIPT;
  exec.filename = "./run.sh";
  save(dir, "exec_script_hostile", exec_record(exec));
  exec.argv = {"prog", std::string(300, 'A')};
  exec.argv_keep = 100;
  save(dir, "exec_truncated", exec_record(exec));
  ExecSpec v2;
  v2.image = "/memfd:x (deleted)";
  v2.exec_flags = PS_EXEC_FD | PS_EXEC_IMAGE_INODE | PS_EXEC_IMAGE_MEMFD | PS_EXEC_IMAGE_UPPER;
  v2.image_uid = 1000;
  v2.image_mode = 0100000 | 04755;
  save(dir, "exec_v2_image", exec_record(v2));
  v2.argv_unreadable = true;
  v2.image = "/tmp/deep/a";
  v2.image_original = 9000;
  v2.exec_flags = PS_EXEC_IMAGE_INODE | PS_EXEC_IMAGE_DELETED;
  save(dir, "exec_v2_unreadable_truncated", exec_record(v2));
  save(dir, "exec_failed", exec_failed_record(TaskSpec{}, 2, "/missing"));
  save(dir, "fork", fork_record(TaskSpec{}, 1, 1));
  save(dir, "exit_signal", exit_record(TaskSpec{}, 9 | 0x80, 5));
  save(dir, "lost", lost_record(3, PS_LOST_RINGBUF_FULL));
  Bytes stream = fork_record(TaskSpec{}, 1, 1);
  Bytes second = exec_record(ExecSpec{});
  stream.insert(stream.end(), second.begin(), second.end());
  save(dir, "stream_fork_exec", stream);
  Bytes bad = exec_record(ExecSpec{});
  bad[sizeof(ps_header) + sizeof(ps_task) + 8] = 0xff;  // image offset, low byte
  save(dir, "near_miss_offset", bad);
  return 0;
}
