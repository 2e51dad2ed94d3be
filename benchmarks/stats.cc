#include "benchmarks/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace spat::benchmarks {
namespace {

// The continued fraction of I_x(a, b) (modified Lentz), valid for
// x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double x, double a, double b) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-15;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double f = d;
  for (int m = 1; m <= 10000; ++m) {
    // Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + num * d;
    c = 1 + num / c;
    if (std::fabs(d) < kTiny) d = kTiny;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    f *= c * d;
    // Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    c = 1 + num / c;
    if (std::fabs(d) < kTiny) d = kTiny;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = c * d;
    f *= delta;
    if (std::fabs(delta - 1) < kEps) break;
  }
  return f;
}

std::vector<double> Ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&v](size_t i, size_t j) { return v[i] < v[j]; });
  std::vector<double> rank(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double average = (i + j) / 2.0 + 1;  // 1-based
    for (size_t k = i; k <= j; ++k) rank[order[k]] = average;
    i = j + 1;
  }
  return rank;
}

// p-values of a t statistic; an infinite t (zero variance, different means)
// is certain, a NaN one (zero variance, equal means) decides nothing.
TestResult FromT(double t, double df) {
  TestResult r;
  r.valid = true;
  r.statistic = t;
  r.df = df;
  if (std::isnan(t)) return r;
  r.p_greater = 1 - StudentTCdf(t, df);
  r.p_less = StudentTCdf(t, df);
  return r;
}

}  // namespace

Summary Summarize(const std::vector<double>& v) {
  Summary s;
  s.n = static_cast<int>(v.size());
  if (v.empty()) return s;
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  if (v.size() < 2) return s;
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(ss / (v.size() - 1));
  return s;
}

double RegularizedIncompleteBeta(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return std::exp(log_front) * BetaContinuedFraction(x, a, b) / a;
  return 1 - std::exp(log_front) * BetaContinuedFraction(1 - x, b, a) / b;
}

double StudentTCdf(double t, double df) {
  if (std::isinf(t)) return t > 0 ? 1 : 0;
  const double tail = 0.5 * RegularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

TestResult WelchTest(const std::vector<double>& a, const std::vector<double>& b, double margin) {
  const Summary sa = Summarize(a), sb = Summarize(b);
  if (sa.n < 2 || sb.n < 2) return TestResult{};
  const double va = sa.sd * sa.sd / sa.n, vb = sb.sd * sb.sd / sb.n;
  const double diff = sa.mean - sb.mean - margin;
  if (va + vb == 0) {
    return FromT(diff == 0 ? std::nan("") : std::copysign(INFINITY, diff), sa.n + sb.n - 2);
  }
  // Welch-Satterthwaite; a sample without spread contributes no term.
  double denom = 0;
  if (va > 0) denom += va * va / (sa.n - 1);
  if (vb > 0) denom += vb * vb / (sb.n - 1);
  return FromT(diff / std::sqrt(va + vb), (va + vb) * (va + vb) / denom);
}

TestResult OneSampleTest(const std::vector<double>& a, double mu) {
  const Summary s = Summarize(a);
  if (s.n < 2) return TestResult{};
  const double diff = s.mean - mu;
  if (s.sd == 0) return FromT(diff == 0 ? std::nan("") : std::copysign(INFINITY, diff), s.n - 1);
  return FromT(diff / (s.sd / std::sqrt(s.n)), s.n - 1);
}

TestResult SpearmanTest(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 3 || x.size() != y.size()) return TestResult{};
  const std::vector<double> rx = Ranks(x), ry = Ranks(y);
  const double mean = (n + 1) / 2.0;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) * (rx[i] - mean);
    syy += (ry[i] - mean) * (ry[i] - mean);
  }
  if (sxx == 0 || syy == 0) return TestResult{};  // a constant variable has no rank order
  const double rho = sxy / std::sqrt(sxx * syy);
  const double df = static_cast<double>(n) - 2;
  const double t = rho >= 1 ? INFINITY
                   : rho <= -1 ? -INFINITY
                               : rho * std::sqrt(df / (1 - rho * rho));
  TestResult r = FromT(t, df);
  r.statistic = rho;
  return r;
}

Outcome Decide(const TestResult& t, double alpha) {
  if (!t.valid) return Outcome::kInconclusive;
  if (t.p_greater < alpha) return Outcome::kHolds;
  if (t.p_less < alpha) return Outcome::kContradicted;
  return Outcome::kInconclusive;
}

std::string OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kHolds: return "holds";
    case Outcome::kContradicted: return "contradicted";
    case Outcome::kInconclusive: return "inconclusive";
    case Outcome::kNotJudged: return "not judged";
  }
  return "inconclusive";
}

}  // namespace spat::benchmarks
