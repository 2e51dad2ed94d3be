#include "base/files.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace spat {
namespace {

std::string Tmp(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d != nullptr ? d : "/tmp") + "/" + name;
}

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(AtomicFile, WritesAndReplaces) {
  const std::string p = Tmp("metrics.json");
  ASSERT_TRUE(WriteFileAtomically(p, "first").ok());
  EXPECT_EQ(Read(p), "first");
  ASSERT_TRUE(WriteFileAtomically(p, "second, longer").ok());
  EXPECT_EQ(Read(p), "second, longer");
  EXPECT_FALSE(std::ifstream(p + ".tmp." + std::to_string(getpid())).good());
}

TEST(ReadFile, ReturnsTheBytesOrNamesTheMissingPath) {
  const std::string p = Tmp("bytes.bin");
  const std::string bytes("a\0b\nc", 5);
  ASSERT_TRUE(WriteFileAtomically(p, bytes).ok());
  absl::StatusOr<std::string> got = ReadFile(p);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, bytes);
  absl::StatusOr<std::string> missing = ReadFile(Tmp("no_such_file"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no_such_file"), std::string::npos);
}

TEST(AtomicFile, FailureNamesThePathAndKeepsNothingHalfWritten) {
  const std::string p = Tmp("missing-dir/x.json");
  absl::Status st = WriteFileAtomically(p, "data");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(p), std::string::npos) << st;
  EXPECT_FALSE(std::ifstream(p).good());
}

TEST(AtomicFile, FailedRenameLeavesThePreviousTargetIntact) {
  // The target is a non-empty directory: the rename fails after the
  // temporary was written; the directory and its content survive.
  const std::string dir = Tmp("target-dir");
  ASSERT_EQ(system(("mkdir -p " + dir + " && echo keep > " + dir + "/f").c_str()), 0);
  absl::Status st = WriteFileAtomically(dir, "data");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(Read(dir + "/f"), "keep\n");
  EXPECT_FALSE(std::ifstream(dir + ".tmp." + std::to_string(getpid())).good());
}

TEST(MakeDirs, CreatesParentsAndRefusesAFile) {
  const std::string deep = Tmp("a/b/c");
  ASSERT_TRUE(MakeDirs(deep).ok());
  ASSERT_TRUE(MakeDirs(deep).ok());  // exists: fine
  ASSERT_TRUE(WriteFileAtomically(deep + "/file", "x").ok());
  absl::Status st = MakeDirs(deep + "/file/sub");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(deep + "/file"), std::string::npos) << st;
  EXPECT_TRUE(MakeDirs("").ok());
  EXPECT_TRUE(PathExists(deep));
  EXPECT_TRUE(PathExists(deep + "/file"));
  EXPECT_FALSE(PathExists(deep + "/missing"));
}

}  // namespace
}  // namespace spat
