#include "base/progress.h"

#include <sstream>

#include "gtest/gtest.h"

namespace spat {
namespace {

TEST(ProgressBar, FillsInProportionAndClamps) {
  EXPECT_EQ(ProgressBar(0.5, 4), "[##..]");
  EXPECT_EQ(ProgressBar(0.0, 3), "[...]");
  EXPECT_EQ(ProgressBar(1.7, 2), "[##]");
  EXPECT_EQ(ProgressBar(-1, 2), "[..]");
}

TEST(Hms, FormatsHoursMinutesSeconds) {
  EXPECT_EQ(Hms(3725.9), "01:02:05");
  EXPECT_EQ(Hms(59), "00:00:59");
  EXPECT_EQ(Hms(-3), "00:00:00");
}

TEST(ProgressLine, ALogGetsTheLastUpdateOnItsOwnLine) {
  std::ostringstream log;
  ProgressLine line(&log, /*tty=*/false);
  line.Update("step 1");  // within 30 s of the start: skipped
  line.Update("step 2", /*last=*/true);
  line.Finish();
  EXPECT_EQ(log.str(), "step 2\n");
}

TEST(ProgressLine, ATerminalLineIsRedrawnAndEnded) {
  std::ostringstream tty;
  ProgressLine line(&tty, /*tty=*/true);
  line.Update("a", /*last=*/true);
  line.Update("b", /*last=*/true);
  line.Finish();
  EXPECT_EQ(tty.str(), "\ra\rb\n");
  ProgressLine silent(nullptr, true);
  silent.Update("x", true);  // no stream: nothing to do, no crash
  silent.Finish();
}

}  // namespace
}  // namespace spat
