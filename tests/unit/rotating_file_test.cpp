// --output's file: rotation by size keeping whole lines and the newest files, 0600, and a
// full disk that costs only the lines that did not fit.
#include "sinks/writers/rotating_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include "sinks/writers/private_file.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;

class RotatingFileTest : public ::testing::Test {
 public:
  RotatingFileTest() : dir_(fs::temp_directory_path() / ("rotating." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~RotatingFileTest() override { fs::remove_all(dir_); }

  // Lines {"n":first} ... {"n":first+count-1} padded to `width` bytes, newline apart.
  static FormattedBatch events(int first, int count, std::size_t width = 100) {
    FormattedBatch out;
    for (int i = 0; i < count; ++i) {
      std::string json = "{\"n\":" + std::to_string(first + i) + ",\"pad\":\"";
      json += std::string(width - json.size() - 2, 'x');
      out.bytes += json + "\"}\n";
      out.ends.push_back(out.bytes.size());
    }
    return out;
  }
  static std::vector<int> numbers_in(const fs::path& file) {
    std::vector<int> n;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      EXPECT_EQ(line.size(), 100u) << "a torn line in " << file;
      n.push_back(std::stoi(line.substr(5)));
    }
    return n;
  }
  fs::path dir_;
};

TEST_F(RotatingFileTest, RotatesAtTheLimitAndKeepsTheNewestFiles) {
  const fs::path file = dir_ / "events.jsonl";
  std::FILE* quiet = std::fopen("/dev/null", "w");
  {
    auto outlet = RotatingFileWriter::open(file.string(), RotationOptions{1010, 2}, quiet);
    ASSERT_TRUE(outlet.has_value()) << outlet.error().message;
    // 101 bytes per line: 10 lines per file. 45 lines: files of 10, 10, 10, 10, 5.
    for (int batch = 0; batch < 9; ++batch) (*outlet)->write(events(batch * 5, 5), {});
    EXPECT_EQ((*outlet)->not_written(), 0u);
  }
  std::fclose(quiet);
  EXPECT_FALSE(fs::exists(dir_ / "events.jsonl.3"));
  std::vector<int> expected_2(10), expected_1(10), expected_0(5);
  std::iota(expected_2.begin(), expected_2.end(), 20);
  std::iota(expected_1.begin(), expected_1.end(), 30);
  std::iota(expected_0.begin(), expected_0.end(), 40);
  EXPECT_EQ(numbers_in(dir_ / "events.jsonl.2"), expected_2);
  EXPECT_EQ(numbers_in(dir_ / "events.jsonl.1"), expected_1);
  EXPECT_EQ(numbers_in(file), expected_0);
  for (const char* name : {"events.jsonl", "events.jsonl.1", "events.jsonl.2"}) {
    struct stat st {};
    ASSERT_EQ(stat((dir_ / name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
    EXPECT_LE(st.st_size, 1010) << name;
  }
}

TEST_F(RotatingFileTest, AnExistingFileIsMadePrivateAndAppendedTo) {
  const fs::path file = dir_ / "events.jsonl";
  std::ofstream(file) << "{\"n\":-1}\n";
  fs::permissions(file, fs::perms::all);
  auto outlet = RotatingFileWriter::open(file.string(), RotationOptions{0, 5}, stderr);
  ASSERT_TRUE(outlet.has_value());
  (*outlet)->write(events(0, 3), {});
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 9 + 3 * 101);
}

// `--output /dev/null` as root once turned /dev/null into mode 0600 (and apt, which writes to it
// as another user, failed): only a regular file of ours is narrowed. A FIFO stands for any
// shared special file (the test does not touch /dev/null itself).
TEST_F(RotatingFileTest, ASpecialFileKeepsItsMode) {
  const fs::path fifo = dir_ / "shared.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  ASSERT_EQ(chmod(fifo.c_str(), 0644), 0);                       // whatever the umask
  const int reader = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK);  // so that opening to write does not wait
  ASSERT_GE(reader, 0);
  auto opened = open_private_append(fifo.string());
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  EXPECT_TRUE(make_private(opened->fd));
  close_file(opened->fd);
  ::close(reader);
  struct stat st {};
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

// In a child process (EXPECT_EXIT): exits 0 if the counts are right.
void fill_the_disk_then_free_it(const fs::path& file, const fs::path& said) {
  signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG
  std::FILE* diagnostics = std::fopen(said.c_str(), "w");
  auto outlet = RotatingFileWriter::open(file.string(), RotationOptions{0, 5}, diagnostics);
  if (!outlet) std::_Exit(10);
  rlimit limit{1000, RLIM_INFINITY};  // room for 9 whole lines and a torn tenth
  setrlimit(RLIMIT_FSIZE, &limit);
  (*outlet)->write(RotatingFileTest::events(0, 12), {});
  (*outlet)->write(RotatingFileTest::events(12, 3), {});
  if ((*outlet)->not_written() != 6) std::_Exit(11);
  limit.rlim_cur = RLIM_INFINITY;  // space is back
  setrlimit(RLIMIT_FSIZE, &limit);
  (*outlet)->write(RotatingFileTest::events(15, 2), {});
  if ((*outlet)->not_written() != 6) std::_Exit(12);
  std::fclose(diagnostics);
  std::_Exit(0);
}

// A full disk, made with RLIMIT_FSIZE in a child process: the lines that do not fit are
// counted, the file keeps whole lines only, one line reports it, and writing resumes once
// space is back.
TEST_F(RotatingFileTest, AFullDiskCostsOnlyTheLinesThatDidNotFit) {
  const fs::path file = dir_ / "events.jsonl";
  const fs::path said = dir_ / "diagnostics.txt";
  EXPECT_EXIT(fill_the_disk_then_free_it(file, said), ::testing::ExitedWithCode(0), "");
  std::vector<int> expected{0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16};
  EXPECT_EQ(numbers_in(file), expected);
  std::ifstream in(said);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "procsentry: cannot write " + file.string() +
                      ": File too large (the other outputs continue; writing resumes when it can)\n"
                      "procsentry: writing to " +
                      file.string() + " resumed (6 events were not written)\n");
}

}  // namespace
}  // namespace procsentry
