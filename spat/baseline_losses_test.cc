#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"
#include "spat/alp_loss.h"
#include "spat/ema.h"
#include "spat/mart_loss.h"
#include "spat/reweighting.h"
#include "spat/trades_loss.h"

namespace spat {
namespace {

at::Tensor Row(std::vector<double> v) { return torch::tensor(v, torch::kDouble).unsqueeze(0); }

TEST(Trades, KlTermByHand) {
  // p = [0.5, 0.5], q = [0.9, 0.1]: KL = 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1).
  const double kl = 0.5 * std::log(0.5 / 0.9) + 0.5 * std::log(0.5 / 0.1);
  at::Tensor nat = Row({0, 0}), adv = Row({std::log(9.0), 0});
  at::Tensor y = torch::tensor({0});
  const double ce = std::log(2.0);
  EXPECT_NEAR(TradesLoss(nat, adv, y, 6.0).item<double>(), ce + 6 * kl, 1e-12);
  EXPECT_NEAR(TradesLoss(nat, nat, y, 6.0).item<double>(), ce, 1e-12);
}

TEST(Mart, ByHand) {
  // Clean p = [1/3]*3; adversarial p' = [0.6, 0.3, 0.1]; y = 0.
  at::Tensor nat = Row({0, 0, 0}), adv = Row({std::log(6.0), std::log(3.0), 0});
  const double bce = -std::log(0.6) - std::log(1.0001 - 0.3 + 1e-12);
  const double third = 1.0 / 3;
  const double kl = third * (std::log(third / 0.6) + std::log(third / 0.3) + std::log(third / 0.1));
  const double expected = bce + 5 * kl * (1.0000001 - third);
  EXPECT_NEAR(MartLoss(nat, adv, torch::tensor({0}), 5.0).item<double>(), expected, 1e-9);
}

TEST(Alp, ByHand) {
  at::Tensor nat = Row({1, 0}), adv = Row({0, 0});
  const double ce_nat = std::log(1 + std::exp(-1.0)), ce_adv = std::log(2.0);
  EXPECT_NEAR(AlpLoss(nat, adv, torch::tensor({0}), 0.5).item<double>(),
              0.5 * ce_nat + 0.5 * ce_adv + 0.5 * 1.0, 1e-12);
}

TEST(Gairat, WeightsFavorPointsCloseToTheBoundary) {
  at::Tensor w = GairatWeights(torch::tensor({0.0, 5.0, 10.0}), 10, -1.0);
  EXPECT_NEAR(w.mean().item<double>(), 1.0, 1e-6);
  EXPECT_GT(w[0].item<double>(), w[1].item<double>());
  EXPECT_GT(w[1].item<double>(), w[2].item<double>());
  // Unnormalized (1 + tanh(-1 + 5(1 - 2k/K)))/2 at k = 0, 5, 10.
  const double a = (1 + std::tanh(4.0)) / 2, b = (1 + std::tanh(-1.0)) / 2,
               c = (1 + std::tanh(-6.0)) / 2;
  EXPECT_NEAR(w[0].item<double>(), 3 * a / (a + b + c), 1e-5);
}

TEST(Mail, WeightsFallWithTheMargin) {
  // Margins: confidently right, borderline, wrong.
  at::Tensor logits = torch::tensor({{5.0, 0.0, 0.0}, {1.0, 1.0, 0.0}, {0.0, 3.0, 0.0}});
  at::Tensor w = MailWeights(logits, torch::tensor({0, 0, 0}), -1.5, 1.0);
  EXPECT_NEAR(w.mean().item<double>(), 1.0, 1e-6);
  EXPECT_LT(w[0].item<double>(), w[1].item<double>());
  EXPECT_LT(w[1].item<double>(), w[2].item<double>());
}

TEST(Ema, AveragesParametersAndCopiesBuffers) {
  torch::nn::BatchNorm1d a(2), b(2);
  {
    torch::NoGradGuard no_grad;
    a->weight.fill_(1.0);
    b->weight.fill_(3.0);
    b->running_mean.fill_(7.0);
  }
  UpdateEma(*a, *b, 0.75);
  EXPECT_TRUE(torch::allclose(a->weight, torch::full({2}, 1.5)));  // 0.75·1 + 0.25·3
  EXPECT_TRUE(torch::allclose(a->running_mean, torch::full({2}, 7.0)));
  EXPECT_DOUBLE_EQ(EmaDecay(0, 0.999), 0.1);
  EXPECT_DOUBLE_EQ(EmaDecay(1000000, 0.999), 0.999);
}

}  // namespace
}  // namespace spat
