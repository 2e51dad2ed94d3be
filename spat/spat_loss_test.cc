#include "spat/spat_loss.h"

#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <vector>

#include "gtest/gtest.h"
#include "spat/divergences.h"

namespace spat {
namespace {

// L_acc^sp by hand (eq. 10-11) for one example.
double HandAccuracyLoss(const std::vector<double>& cos, int y, double s, double beta) {
  double denom = 0, num = 0;
  for (size_t j = 0; j < cos.size(); ++j) {
    const double g = static_cast<int>(j) == y ? 1 - cos[j] + beta : cos[j] + beta;
    const double e = std::exp(g * s * cos[j]);
    denom += e;
    if (static_cast<int>(j) == y) num = e;
  }
  return -std::log(num / denom);
}

std::vector<double> Softmax(const std::vector<double>& z) {
  double m = z[0];
  for (double v : z) m = std::max(m, v);
  double sum = 0;
  std::vector<double> p;
  for (double v : z) {
    p.push_back(std::exp(v - m));
    sum += p.back();
  }
  for (double& v : p) v /= sum;
  return p;
}

// L_rob^sp by hand (eq. 13-15) for one example.
double HandRobustnessLoss(const std::vector<double>& nat, const std::vector<double>& adv,
                          double alpha) {
  const std::vector<double> p = Softmax(nat), q = Softmax(adv);
  double kl = 0, inc = 0;
  for (size_t j = 0; j < p.size(); ++j) {
    const double t = p[j] * std::log(p[j] / q[j]);
    kl += t;
    inc += t * t;
  }
  return alpha * kl + inc;
}

at::Tensor T(const std::vector<std::vector<double>>& rows) {
  std::vector<at::Tensor> r;
  for (const auto& row : rows) r.push_back(torch::tensor(row, torch::kDouble));
  return torch::stack(r);
}

TEST(SpatLoss, GainsByHand) {
  // cos = [0.8, 0.5, -0.2], y = 0, beta = 0.2 -> g = [0.4, 0.7, 0.0].
  at::Tensor g = SelfPacedGains(T({{0.8, 0.5, -0.2}}), torch::tensor({0}), 0.2);
  EXPECT_TRUE(torch::allclose(g, T({{0.4, 0.7, 0.0}}), 1e-12, 1e-12)) << g;
}

TEST(SpatLoss, AccuracyLossMatchesEquation10ByHand) {
  const double s = 5, beta = 0.2;
  const std::vector<std::vector<double>> cos = {{0.8, 0.5, -0.2}, {0.1, -0.3, 0.6}};
  const std::vector<int> y = {0, 2};
  at::Tensor c = T(cos);
  SpatLossOptions o;
  o.beta = beta;
  at::Tensor l = SelfPacedAccuracyLoss(s * c, c, torch::tensor({0, 2}), o);
  // Example 0: g·s·cos = [1.6, 1.75, 0] -> log(e^1.6 + e^1.75 + 1) - 1.6.
  EXPECT_NEAR(HandAccuracyLoss(cos[0], 0, s, beta),
              std::log(std::exp(1.6) + std::exp(1.75) + 1.0) - 1.6, 1e-12);
  const double expected =
      (HandAccuracyLoss(cos[0], y[0], s, beta) + HandAccuracyLoss(cos[1], y[1], s, beta)) / 2;
  EXPECT_NEAR(l.item<double>(), expected, 1e-10);
}

TEST(SpatLoss, RobustnessLossMatchesEquation15ByHand) {
  const std::vector<double> nat = {2.0, -1.0, 0.5, 0.0}, adv = {0.3, 1.2, -0.4, 0.1};
  SpatLossOptions o;
  o.alpha = 0.2;
  at::Tensor l = SelfPacedRobustnessPerExample(T({nat}), T({adv}), o);
  EXPECT_NEAR(l.item<double>(), HandRobustnessLoss(nat, adv, 0.2), 1e-12);
  // Identical inputs: no divergence, no inconsistency.
  EXPECT_NEAR(SelfPacedRobustnessPerExample(T({nat}), T({nat}), o).item<double>(), 0, 1e-15);
}

TEST(SpatLoss, FullLossIsEquation9) {
  const std::vector<double> cos = {0.8, 0.5, -0.2};
  const std::vector<double> adv = {1.0, 2.0, 0.0};
  SpatLossOptions o;  // alpha = beta = 0.2, lambda = 6
  const double s = 5;
  std::vector<double> nat;
  for (double v : cos) nat.push_back(s * v);
  at::Tensor l = SpatLoss(T({nat}), T({cos}), T({adv}), torch::tensor({1}), o);
  const double expected = HandAccuracyLoss(cos, 1, s, 0.2) + 6 * HandRobustnessLoss(nat, adv, 0.2);
  EXPECT_NEAR(l.item<double>(), expected, 1e-10);
}

TEST(SpatLoss, AblationSwitches) {
  at::Tensor cos = torch::rand({6, 10}, torch::kDouble) * 2 - 1;
  at::Tensor y = torch::randint(0, 10, {6});
  SpatLossOptions o;
  o.sp_acc = false;  // plain NCE: CE(s cos, y)
  EXPECT_TRUE(torch::allclose(SelfPacedAccuracyLoss(5 * cos, cos, y, o),
                              torch::cross_entropy_loss(5 * cos, y)));
  o.sp_rob = false;  // plain KL
  at::Tensor a = torch::randn({6, 10}, torch::kDouble), b = torch::randn({6, 10}, torch::kDouble);
  EXPECT_TRUE(torch::allclose(SelfPacedRobustnessPerExample(a, b, o), KlPerExample(a, b)));
  // With alpha = 0 and the SP term on, only the inconsistency term is left.
  SpatLossOptions inc;
  inc.alpha = 0;
  at::Tensor lp = torch::log_softmax(a, 1), lq = torch::log_softmax(b, 1);
  at::Tensor t = lp.exp() * (lp - lq);
  EXPECT_TRUE(torch::allclose(SelfPacedRobustnessPerExample(a, b, inc), t.square().sum(1)));
}

TEST(SpatLoss, PermutingClassesChangesNothing) {
  at::Tensor cos = torch::rand({5, 7}, torch::kDouble) * 2 - 1;
  at::Tensor adv = torch::randn({5, 7}, torch::kDouble);
  at::Tensor y = torch::randint(0, 7, {5});
  at::Tensor perm = torch::randperm(7);
  at::Tensor inverse = torch::argsort(perm);
  SpatLossOptions o;
  at::Tensor l = SpatLoss(5 * cos, cos, adv, y, o);
  at::Tensor lp = SpatLoss(5 * cos.index_select(1, perm), cos.index_select(1, perm),
                           adv.index_select(1, perm), inverse.index_select(0, y), o);
  EXPECT_NEAR(l.item<double>(), lp.item<double>(), 1e-12);
}

// Central differences on every input element vs autograd, in double.
void ExpectGradientMatchesFiniteDifferences(
    const std::function<at::Tensor(const std::vector<at::Tensor>&)>& f,
    std::vector<at::Tensor> inputs) {
  for (auto& t : inputs) t.requires_grad_(true);
  std::vector<at::Tensor> grads = torch::autograd::grad({f(inputs)}, inputs);
  const double h = 1e-6;
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    at::Tensor flat = inputs[k].view(-1);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double v = flat[i].item<double>();
      flat[i] = v + h;
      const double up = f(inputs).item<double>();
      flat[i] = v - h;
      const double down = f(inputs).item<double>();
      flat[i] = v;
      EXPECT_NEAR(grads[k].view(-1)[i].item<double>(), (up - down) / (2 * h), 1e-6)
          << "input " << k << " element " << i;
    }
  }
}

TEST(SpatLoss, GradientsMatchFiniteDifferences) {
  torch::manual_seed(3);
  at::Tensor y = torch::tensor({0, 2, 1});
  SpatLossOptions o;
  // Inputs: cos (logits = 5 cos derived inside, so gains and logits both
  // carry gradient, as in training) and adversarial logits.
  ExpectGradientMatchesFiniteDifferences(
      [&](const std::vector<at::Tensor>& in) {
        return SpatLoss(5 * in[0], in[0], in[1], y, o);
      },
      {torch::rand({3, 4}, torch::kDouble) * 2 - 1, torch::randn({3, 4}, torch::kDouble)});
}

TEST(SpatLoss, DetachedGainsCarryNoGradient) {
  at::Tensor cos = (torch::rand({2, 3}, torch::kDouble) * 2 - 1).requires_grad_(true);
  at::Tensor logits = torch::randn({2, 3}, torch::kDouble).requires_grad_(true);
  SpatLossOptions o;
  o.detach_gains = true;
  at::Tensor l = SelfPacedAccuracyLoss(logits, cos, torch::tensor({0, 1}), o);
  auto g = torch::autograd::grad({l}, {cos, logits}, {}, false, false, /*allow_unused=*/true);
  EXPECT_FALSE(g[0].defined() && g[0].abs().sum().item<double>() > 0);
  EXPECT_GT(g[1].abs().sum().item<double>(), 0);
}

}  // namespace
}  // namespace spat
