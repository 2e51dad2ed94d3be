// The statistics behind every claim of the tables: mean and standard
// deviation of a cell's runs, Welch's t-test between two cells, a one-sample
// t-test against a threshold, and Spearman's rank correlation for trends.
//
//   TestResult t = WelchGreater(spat_runs, madry_runs);   // H1: mean(a) > mean(b)
//   Outcome o = Decide(t);                           // holds / contradicted / inconclusive
//
// p-values are one-sided. Every test needs n >= 2 per sample (n >= 3 pairs
// for Spearman); with fewer runs the result is marked `valid = false` and
// Decide() says inconclusive.
#ifndef SPAT_BENCHMARKS_STATS_H_
#define SPAT_BENCHMARKS_STATS_H_

#include <string>
#include <vector>

namespace spat::benchmarks {

struct Summary {
  double mean = 0;
  double sd = 0;  // sample standard deviation (n - 1); 0 for n < 2
  int n = 0;
};
Summary Summarize(const std::vector<double>& v);

// P(T <= t) for Student's t with `df` > 0 degrees of freedom (df may be
// fractional, as Welch's approximation gives).
double StudentTCdf(double t, double df);

// The regularized incomplete beta function I_x(a, b), 0 <= x <= 1.
double RegularizedIncompleteBeta(double x, double a, double b);

struct TestResult {
  bool valid = false;    // enough runs to test
  double statistic = 0;  // t (or Spearman's rho for the rank test)
  double df = 0;
  double p_greater = 1;  // one-sided p of H1 "greater" (rho > 0 for the rank test)
  double p_less = 1;     // one-sided p of H1 "less"
};

// Welch's unequal-variance t-test of mean(a) - mean(b) against `margin`:
// p_greater tests mean(a) - mean(b) > margin.
TestResult WelchTest(const std::vector<double>& a, const std::vector<double>& b, double margin = 0);

// One-sample t-test of mean(a) against `mu`.
TestResult OneSampleTest(const std::vector<double>& a, double mu);

// Spearman's rank correlation between x and y (ties get average ranks);
// p from t = rho sqrt((n-2)/(1-rho^2)) with n-2 degrees of freedom.
TestResult SpearmanTest(const std::vector<double>& x, const std::vector<double>& y);

// kNotJudged: a cell the claim compares did not converge (harness.h).
enum class Outcome { kHolds, kContradicted, kInconclusive, kNotJudged };

// holds: p_greater < alpha; contradicted: p_less < alpha; else inconclusive.
Outcome Decide(const TestResult& t, double alpha = 0.05);
// "holds", "contradicted", "inconclusive", "not judged"
std::string OutcomeName(Outcome o);

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_STATS_H_
