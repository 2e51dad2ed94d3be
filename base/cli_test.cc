#include "base/cli.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_FLAG(double, cli_test_rate, 0.5, "a flag for the test");
ABSL_FLAG(bool, cli_test_switch, false, "a boolean flag for the test");

namespace spat {
namespace {

std::vector<char*> Parse(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseCommandLineOrExit(static_cast<int>(argv.size()), argv.data());
}

TEST(Cli, ParsesKnownFlags) {
  std::vector<std::string> args = {"prog", "--cli_test_rate=0.25", "--cli_test_switch"};
  EXPECT_EQ(Parse(args).size(), 1u);
  EXPECT_EQ(absl::GetFlag(FLAGS_cli_test_rate), 0.25);
  EXPECT_TRUE(absl::GetFlag(FLAGS_cli_test_switch));
  std::vector<std::string> spaced = {"prog", "--cli_test_rate", "2", "--nocli_test_switch"};
  Parse(spaced);
  EXPECT_EQ(absl::GetFlag(FLAGS_cli_test_rate), 2.0);
  EXPECT_FALSE(absl::GetFlag(FLAGS_cli_test_switch));
}

TEST(CliDeathTest, BadUsageExitsTwoNamingTheFlag) {
  std::vector<std::string> unknown = {"prog", "--no_such_flag=1"};
  EXPECT_EXIT(Parse(unknown), ::testing::ExitedWithCode(2), "unknown flag --no_such_flag");
  std::vector<std::string> malformed = {"prog", "--cli_test_rate=fast"};
  EXPECT_EXIT(Parse(malformed), ::testing::ExitedWithCode(2), "--cli_test_rate");
  std::vector<std::string> missing = {"prog", "--cli_test_rate"};
  EXPECT_EXIT(Parse(missing), ::testing::ExitedWithCode(2), "--cli_test_rate needs a value");
  std::vector<std::string> positional = {"prog", "stray"};
  EXPECT_EXIT(Parse(positional), ::testing::ExitedWithCode(2), "unexpected argument 'stray'");
}

TEST(Cli, UserPathResolvesAgainstTheDirectoryBazelRunStartedIn) {
  ::unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(UserPath("runs/a"), "runs/a");
  ::setenv("BUILD_WORKING_DIRECTORY", "/home/me", 1);
  EXPECT_EQ(UserPath("runs/a"), "/home/me/runs/a");
  EXPECT_EQ(UserPath("/abs/b"), "/abs/b");
  EXPECT_EQ(UserPath(""), "");
  ::unsetenv("BUILD_WORKING_DIRECTORY");
}

TEST(Cli, ThreadsOrAllCores) {
  EXPECT_EQ(ThreadsOrAllCores(3), 3);
  EXPECT_GE(ThreadsOrAllCores(0), 1);
  EXPECT_GE(ThreadsOrAllCores(-1), 1);
}

}  // namespace
}  // namespace spat
