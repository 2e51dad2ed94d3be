#include "benchmarks/stats.h"

#include <cmath>

#include "gtest/gtest.h"

namespace spat::benchmarks {
namespace {

// Reference values from SciPy 1.10 (scipy.stats.t.cdf, ttest_ind with
// equal_var=False, ttest_1samp, spearmanr, beta.cdf).
TEST(Stats, StudentTCdfMatchesSciPy) {
  EXPECT_NEAR(StudentTCdf(2.0, 10), 0.9633059826146297, 1e-12);
  EXPECT_NEAR(StudentTCdf(-1.5, 3.7), 0.10679908460100665, 1e-12);
  EXPECT_NEAR(StudentTCdf(1.0, 1), 0.75, 1e-12);
  EXPECT_NEAR(StudentTCdf(0.3, 200), 0.617755634905336, 1e-12);
  EXPECT_DOUBLE_EQ(StudentTCdf(0, 4), 0.5);
  EXPECT_EQ(StudentTCdf(INFINITY, 4), 1);
  EXPECT_EQ(StudentTCdf(-INFINITY, 4), 0);
}

TEST(Stats, IncompleteBetaMatchesSciPy) {
  EXPECT_NEAR(RegularizedIncompleteBeta(0.3, 2.5, 4.0), 0.3521975859067672, 1e-12);
  EXPECT_NEAR(RegularizedIncompleteBeta(0.9, 0.5, 7.5), 0.9999999932897103, 1e-12);
  EXPECT_EQ(RegularizedIncompleteBeta(0, 2, 3), 0);
  EXPECT_EQ(RegularizedIncompleteBeta(1, 2, 3), 1);
}

TEST(Stats, SummarizeUsesTheSampleStandardDeviation) {
  const Summary s = Summarize({46.0, 51.1, 49.1});
  EXPECT_NEAR(s.mean, 48.733333333, 1e-8);
  EXPECT_NEAR(s.sd, 2.5697, 1e-4);
  EXPECT_EQ(s.n, 3);
  EXPECT_EQ(Summarize({3.0}).sd, 0);
  EXPECT_EQ(Summarize({}).n, 0);
}

TEST(Stats, WelchMatchesSciPy) {
  const TestResult t = WelchTest({48.7, 51.1, 49.1}, {46.0, 44.2, 45.5});
  ASSERT_TRUE(t.valid);
  EXPECT_NEAR(t.statistic, 4.803971866629148, 1e-10);
  EXPECT_NEAR(t.p_greater, 0.005434332252109949, 1e-10);
  EXPECT_EQ(Decide(t), Outcome::kHolds);
  const TestResult u = WelchTest({91.1, 91.2, 91.4, 90.8}, {90.8, 91.1, 91.7});
  EXPECT_NEAR(u.statistic, -0.2563072973149386, 1e-10);
  EXPECT_NEAR(u.p_less, 0.40741722653846446, 1e-10);
  EXPECT_EQ(Decide(u), Outcome::kInconclusive);
  // The other way round is contradicted, not inconclusive.
  EXPECT_EQ(Decide(WelchTest({46.0, 44.2, 45.5}, {48.7, 51.1, 49.1})), Outcome::kContradicted);
}

TEST(Stats, WelchMarginShiftsTheNullHypothesis) {
  // A 0.4-point drop with little spread is significantly below a 1-point margin.
  const TestResult t = WelchTest({-0.5, -0.3, -0.4}, {0.0, 0.1, -0.1}, -1.0);
  EXPECT_EQ(Decide(t), Outcome::kHolds);
  EXPECT_EQ(Decide(WelchTest({-0.5, -0.3, -0.4}, {0.0, 0.1, -0.1}, 0.0)), Outcome::kContradicted);
}

TEST(Stats, DegenerateSamples) {
  EXPECT_FALSE(WelchTest({1.0}, {0.0, 0.5}).valid);
  EXPECT_EQ(Decide(WelchTest({1.0}, {0.0, 0.5})), Outcome::kInconclusive);
  // No spread, different means: certain; equal means: nothing decided.
  EXPECT_EQ(Decide(WelchTest({2.0, 2.0}, {1.0, 1.0})), Outcome::kHolds);
  EXPECT_EQ(Decide(WelchTest({1.0, 1.0}, {1.0, 1.0})), Outcome::kInconclusive);
  // One sample without spread: the other's variance alone decides.
  const TestResult t = WelchTest({2.0, 2.0, 2.0}, {1.0, 1.2, 0.8});
  EXPECT_TRUE(std::isfinite(t.statistic));
  EXPECT_NEAR(t.df, 2.0, 1e-12);
}

TEST(Stats, OneSampleMatchesSciPy) {
  const TestResult t = OneSampleTest({54.3, 50.1, 58.2}, 33.3);
  EXPECT_NEAR(t.statistic, 8.936194708508372, 1e-10);
  EXPECT_NEAR(t.p_greater, 0.006146093844192646, 1e-10);
  EXPECT_FALSE(OneSampleTest({54.3}, 33.3).valid);
}

TEST(Stats, SpearmanMatchesSciPyWithTies) {
  const TestResult t = SpearmanTest({1, 1, 1, 3, 3, 3, 5, 5, 5, 8, 8, 8},
                              {17, 19, 18, 30, 35, 33, 40, 38, 41, 37, 45, 36});
  EXPECT_NEAR(t.statistic, 0.8420753583206845, 1e-12);
  EXPECT_NEAR(t.p_greater, 0.00029484831029280567, 1e-10);  // SciPy's two-sided / 2
  EXPECT_EQ(Decide(t), Outcome::kHolds);
  EXPECT_EQ(Decide(SpearmanTest({1, 2, 3, 4}, {4, 3, 2, 1})), Outcome::kContradicted);
  EXPECT_FALSE(SpearmanTest({1, 2}, {1, 2}).valid);
  EXPECT_FALSE(SpearmanTest({1, 1, 1}, {1, 2, 3}).valid);
}

}  // namespace
}  // namespace spat::benchmarks
