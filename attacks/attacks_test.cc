// Properties of the attack suite on random and trained models.
#include <ATen/core/grad_mode.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "attacks/adv_losses.h"
#include "attacks/apgd.h"
#include "attacks/autoattack.h"
#include "attacks/fab.h"
#include "attacks/pgd.h"
#include "attacks/square.h"
#include "base/files.h"
#include "base/torch_compat.h"

#include "gtest/gtest.h"

namespace spat::attacks {
namespace {

// 10 classes of 1x8x8 "images": fixed templates plus noise.
struct Toy {
  at::Tensor x, y;
};

Toy MakeData(int64_t n, uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(99);
  at::Tensor templates = at::rand({10, 1, 8, 8}, g);
  at::Generator s = at::detail::createCPUGenerator(seed);
  at::Tensor y = at::randint(0, 10, {n}, s, at::kLong);
  at::Tensor x = (templates.index_select(0, y) + 0.15 * at::randn({n, 1, 8, 8}, s)).clamp(0, 1);
  return {x, y};
}

torch::nn::Sequential TrainedMlp() {
  torch::manual_seed(0);
  auto net = torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(64, 64),
                                   torch::nn::ReLU(), torch::nn::Linear(64, 10));
  Toy d = MakeData(2000, 1);
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  for (int epoch = 0; epoch < 10; ++epoch) {
    for (int64_t s = 0; s < 2000; s += 100) {
      opt.zero_grad();
      torch::cross_entropy_loss(net->forward(d.x.narrow(0, s, 100)), d.y.narrow(0, s, 100))
          .backward();
      opt.step();
    }
  }
  net->eval();
  return net;
}

ForwardFn Fn(torch::nn::Sequential& net) {
  return [net](const at::Tensor& t) mutable { return net->forward(t); };
}

void ExpectInBall(const at::Tensor& adv, const at::Tensor& x, double eps, const char* what) {
  EXPECT_LE((adv - x).abs().max().item<double>(), eps + 1e-6) << what;
  EXPECT_GE(adv.min().item<double>(), 0.0) << what;
  EXPECT_LE(adv.max().item<double>(), 1.0) << what;
}

double Accuracy(torch::nn::Sequential& net, const at::Tensor& x, const at::Tensor& y) {
  torch::NoGradGuard no_grad;
  return 100.0 * net->forward(x).argmax(1).eq(y).sum().item<int64_t>() / y.size(0);
}

TEST(Apgd, CheckpointScheduleIsTheReferences) {
  // Windows 22, 19, 16, 13, 10, 7, 6, 6 (ATTACKS.md).
  EXPECT_EQ(ApgdCheckpoints(100), (std::vector<int>{21, 40, 56, 69, 79, 86, 92, 98}));
}

TEST(Square, FractionScheduleHalvesAtTheReferenceIterations) {
  EXPECT_DOUBLE_EQ(SquareFraction(0.8, 10), 0.8);
  EXPECT_DOUBLE_EQ(SquareFraction(0.8, 11), 0.4);
  EXPECT_DOUBLE_EQ(SquareFraction(0.8, 51), 0.2);
  EXPECT_DOUBLE_EQ(SquareFraction(0.8, 4500), 0.8 / 128);
  EXPECT_DOUBLE_EQ(SquareFraction(0.8, 9000), 0.8 / 512);
}

TEST(Losses, TargetedDlrByHand) {
  // z = [4, 3, 2, 1, 0], y = 0, t = 2: -(4 - 2) / (4 - (2 + 1)/2).
  at::Tensor z = torch::tensor({{4.0, 3.0, 2.0, 1.0, 0.0}});
  EXPECT_NEAR(TargetedDlrLoss(z, torch::tensor({0}), torch::tensor({2})).item<double>(),
              -2.0 / 2.5, 1e-6);
}

// g(t) = w·clip(t·sign(w), box) is monotone: bisection finds the same step.
TEST(Fab, LinfProjectionMatchesBisection) {
  torch::manual_seed(5);
  at::Tensor p = torch::rand({6, 20}, torch::kDouble);
  at::Tensor w = torch::randn({6, 20}, torch::kDouble);
  at::Tensor b = (w * p).sum(1) + torch::randn({6}, torch::kDouble) * 0.5;
  at::Tensor d = ProjectLinfHyperplaneBox(p, w, b);
  for (int64_t r = 0; r < 6; ++r) {
    const double c = b[r].item<double>() - (w[r] * p[r]).sum().item<double>();
    at::Tensor dir = (c >= 0 ? w[r] : -w[r]).sign();
    at::Tensor room = torch::where(dir > 0, 1 - p[r], p[r]);
    auto reach = [&](double t) {
      return (w[r] * dir * torch::minimum(torch::full_like(room, t), room)).sum().item<double>();
    };
    double lo = 0, hi = 1;
    const bool feasible = std::abs(reach(1.0)) >= std::abs(c);
    for (int it = 0; it < 100 && feasible; ++it) {
      const double mid = (lo + hi) / 2;
      (std::abs(reach(mid)) >= std::abs(c) ? hi : lo) = mid;
    }
    if (feasible) {
      EXPECT_NEAR(d[r].abs().max().item<double>(), hi, 1e-9) << r;
      EXPECT_NEAR((w[r] * (p[r] + d[r])).sum().item<double>(), b[r].item<double>(), 1e-9) << r;
    }
    EXPECT_GE((p[r] + d[r]).min().item<double>(), -1e-12);
    EXPECT_LE((p[r] + d[r]).max().item<double>(), 1 + 1e-12);
  }
}

TEST(Fab, FindsTheMinimalPerturbationOfALinearModel) {
  // Two classes, z_1 - z_0 = w·x + c: the smallest l-inf step to the boundary
  // is |w·x + c| / ||w||_1 (the box is not active at x = 0.5).
  torch::manual_seed(7);
  at::Tensor w = torch::randn({1, 16}) * 0.1;
  ForwardFn f = [&](const at::Tensor& x) {
    at::Tensor s = (x.flatten(1) * w).sum(1, true);
    return torch::cat({torch::zeros_like(s), s - 0.3}, 1);
  };
  at::Tensor x = torch::full({1, 1, 4, 4}, 0.5);
  const double gap = std::abs((0.5 * w).sum().item<double>() - 0.3);
  const double exact = gap / w.abs().sum().item<double>();
  ASSERT_LT(exact, 0.5);
  at::Tensor y = f(x).argmax(1);
  FabResult r = FabTargeted(f, x, y, 1 - y, FabOptions{.epsilon = 1.0, .num_iters = 20});
  EXPECT_FALSE(r.robust[0].item<bool>());
  EXPECT_GE(r.distance[0].item<double>(), exact - 1e-5);
  EXPECT_LE(r.distance[0].item<double>(), exact * 1.06);
}

TEST(Attacks, EveryAttackStaysInTheBallOnRandomAndTrainedModels) {
  Toy d = MakeData(64, 2);
  torch::manual_seed(3);
  auto random = torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(64, 10));
  auto trained = TrainedMlp();
  const double eps = 0.1;
  for (auto* net : {&random, &trained}) {
    ForwardFn f = Fn(*net);
    at::Generator g = at::detail::createCPUGenerator(0);
    AdvLossFn ce = [&](const at::Tensor& z) { return CrossEntropyPerExample(z, d.y); };
    ExpectInBall(Pgd(f, d.x, ce, {.epsilon = eps, .step_size = eps / 4, .num_steps = 10}, g),
                 d.x, eps, "pgd");
    ExpectInBall(Pgd(f, d.x, ce, {.epsilon = eps, .step_size = eps, .num_steps = 1,
                                  .start = StartMode::kNone}, g), d.x, eps, "fgsm");
    ExpectInBall(Pgd(f, d.x, ce, {.epsilon = eps, .step_size = eps / 10, .num_steps = 10,
                                  .start = StartMode::kNone, .momentum = 1.0}, g),
                 d.x, eps, "mim");
    ExpectInBall(Apgd(f, d.x, d.y, {.epsilon = eps, .num_iters = 20}, g).x_adv, d.x, eps, "apgd");
    at::Tensor target = (d.y + 1) % 10;
    ExpectInBall(Apgd(f, d.x, d.y, {.epsilon = eps, .num_iters = 20,
                                    .loss = ApgdLoss::kTargetedDlr}, g, target).x_adv,
                 d.x, eps, "apgd-t");
    ExpectInBall(FabTargeted(f, d.x, d.y, target, {.epsilon = eps, .num_iters = 20}).x_adv,
                 d.x, eps, "fab");
    ExpectInBall(SquareLinf(f, d.x, d.y, {.epsilon = eps, .num_queries = 100}, g).x_adv,
                 d.x, eps, "square");
    AutoAttackOptions ao{.epsilon = eps, .apgd_iters = 10, .fab_iters = 10,
                         .square_queries = 50, .num_targets = 3};
    ExpectInBall(RunAutoAttack(f, d.x, d.y, ao, nullptr).x_adv, d.x, eps, "aa");
  }
}

// PGD with its forward passes under bfloat16 autocast (training's --bf16):
// x' stays fp32 and in the ball, and on a trained model it is about as
// strong as fp32 PGD; autocast is off again afterwards.
TEST(Pgd, Bf16ForwardStaysInTheBallAndKeepsItsStrength) {
  if (!CpuBf16Supported()) GTEST_SKIP() << "no bfloat16 CPU kernels (oneDNN needs AVX-512)";
  Toy d = MakeData(64, 2);
  auto trained = TrainedMlp();
  ForwardFn f = Fn(trained);
  AdvLossFn ce = [&](const at::Tensor& z) { return CrossEntropyPerExample(z, d.y); };
  const double eps = 0.5;  // large enough to break the toy model
  const PgdOptions o{.epsilon = eps, .step_size = eps / 4, .num_steps = 10,
                     .start = StartMode::kNone};
  PgdOptions ob = o;
  ob.bf16 = true;
  at::Generator g1 = at::detail::createCPUGenerator(0), g2 = at::detail::createCPUGenerator(0);
  const at::Tensor adv32 = Pgd(f, d.x, ce, o, g1);
  const at::Tensor adv16 = Pgd(f, d.x, ce, ob, g2);
  EXPECT_EQ(adv16.scalar_type(), at::kFloat);
  ExpectInBall(adv16, d.x, eps, "pgd-bf16");
  EXPECT_FALSE(spat::compat::AutocastEnabled(c10::kCPU));
  at::NoGradGuard no_grad;
  const double acc32 = f(adv32).argmax(1).eq(d.y).to(at::kFloat).mean().item<double>();
  const double acc16 = f(adv16).argmax(1).eq(d.y).to(at::kFloat).mean().item<double>();
  const double clean = f(d.x).argmax(1).eq(d.y).to(at::kFloat).mean().item<double>();
  ASSERT_LT(acc32, clean - 0.3) << "the toy model is too robust for this test";
  EXPECT_LT(acc16, clean - 0.3) << "bf16 PGD barely attacks";
  EXPECT_NEAR(acc16, acc32, 0.1);
}

TEST(AutoAttack, NeverTouchesPointsItWasNotAskedToAttackAndIsReproducible) {
  auto net = TrainedMlp();
  Toy d = MakeData(100, 3);
  d.y.narrow(0, 0, 10).add_(1).remainder_(10);  // first 10: wrong labels
  ForwardFn f = Fn(net);
  AutoAttackOptions ao{.epsilon = 0.1, .apgd_iters = 10, .fab_iters = 10,
                       .square_queries = 50, .num_targets = 3, .seed = 4};
  AutoAttackResult r = RunAutoAttack(f, d.x, d.y, ao, nullptr);
  at::Tensor clean_wrong;
  {
    torch::NoGradGuard no_grad;
    clean_wrong = net->forward(d.x).argmax(1).ne(d.y);
  }
  ASSERT_GE(clean_wrong.sum().item<int64_t>(), 10);
  at::Tensor idx = clean_wrong.nonzero().squeeze(1);
  EXPECT_TRUE(torch::equal(r.x_adv.index_select(0, idx), d.x.index_select(0, idx)));
  EXPECT_FALSE(r.robust.index_select(0, idx).any().item<bool>());
  AutoAttackResult again = RunAutoAttack(f, d.x, d.y, ao, nullptr);
  EXPECT_TRUE(torch::equal(r.robust, again.robust));
}

// A run killed inside a component resumes from its file after the components
// it finished and ends where an uninterrupted run ends; a file saved for other
// options is ignored.
TEST(AutoAttack, ResumesAfterTheLastFinishedComponent) {
  auto net = TrainedMlp();
  Toy d = MakeData(100, 5);
  ForwardFn f = Fn(net);
  int64_t calls = 0, fail_at = -1;
  ForwardFn counted = [&](const at::Tensor& t) {
    if (++calls == fail_at) throw std::runtime_error("killed");
    return f(t);
  };
  AutoAttackOptions ao{.epsilon = 0.05, .apgd_iters = 10, .fab_iters = 10,
                       .square_queries = 50, .num_targets = 3, .seed = 4};
  const AutoAttackResult whole = RunAutoAttack(counted, d.x, d.y, ao, nullptr);
  const int64_t whole_calls = calls;
  ASSERT_EQ(whole.after.size(), 4u);
  ASSERT_GT(whole.after[1].second, 0.0);  // points left for FAB-T
  AutoAttackOptions first_two = ao;
  first_two.components = {"apgd_ce", "apgd_t"};
  calls = 0;
  RunAutoAttack(counted, d.x, d.y, first_two, nullptr);
  const int64_t first_calls = calls;  // the clean pass, APGD-CE, APGD-T

  const std::string file = ::testing::TempDir() + "/aa.partial.pt";
  std::remove(file.c_str());
  AutoAttackOptions resumable = ao;
  resumable.resume_file = file;
  auto kill_inside_fab = [&] {
    calls = 0;
    fail_at = first_calls + 3;
    EXPECT_THROW(RunAutoAttack(counted, d.x, d.y, resumable, nullptr), std::runtime_error);
    fail_at = -1;
    ASSERT_TRUE(PathExists(file));
  };
  kill_inside_fab();
  calls = 0;
  std::ostringstream log;
  const AutoAttackResult resumed = RunAutoAttack(counted, d.x, d.y, resumable, &log);
  EXPECT_LE(calls, whole_calls - first_calls + 1);  // APGD-CE and APGD-T not rerun
  EXPECT_NE(log.str().find("apgd_t   resumed from " + file), std::string::npos) << log.str();
  EXPECT_TRUE(torch::equal(resumed.robust, whole.robust));
  EXPECT_TRUE(torch::equal(resumed.x_adv, whole.x_adv));
  ASSERT_EQ(resumed.after.size(), whole.after.size());
  for (size_t i = 0; i < whole.after.size(); ++i) {
    EXPECT_EQ(resumed.after[i].first, whole.after[i].first);
    EXPECT_DOUBLE_EQ(resumed.after[i].second, whole.after[i].second);
  }
  EXPECT_FALSE(PathExists(file));  // removed when the run ends
  EXPECT_DOUBLE_EQ(resumed.resumed_seconds,
                   resumed.seconds.at("apgd_ce") + resumed.seconds.at("apgd_t"));

  kill_inside_fab();
  AutoAttackOptions other = resumable;
  other.seed = 5;
  std::ostringstream other_log;
  const AutoAttackResult started_over = RunAutoAttack(f, d.x, d.y, other, &other_log);
  EXPECT_NE(other_log.str().find("saved for other points, labels, model or options"),
            std::string::npos)
      << other_log.str();
  other.resume_file = "";
  EXPECT_TRUE(torch::equal(started_over.x_adv, RunAutoAttack(f, d.x, d.y, other, nullptr).x_adv));

  // Nor is a file saved for another model of the same points and options
  // (a cell trained again, say).
  kill_inside_fab();
  ForwardFn shifted = [&](const at::Tensor& t) { return f(t) + 0.01; };
  std::ostringstream model_log;
  RunAutoAttack(shifted, d.x, d.y, resumable, &model_log);
  EXPECT_NE(model_log.str().find("saved for other points, labels, model or options"),
            std::string::npos)
      << model_log.str();
  EXPECT_FALSE(PathExists(file));
}

TEST(AutoAttack, IsAtLeastAsStrongAsEachComponentAndAsPgd) {
  auto net = TrainedMlp();
  Toy d = MakeData(200, 4);
  ForwardFn f = Fn(net);
  const double eps = 0.08;
  ASSERT_GT(Accuracy(net, d.x, d.y), 90.0);
  AutoAttackOptions ao{.epsilon = eps, .apgd_iters = 30, .fab_iters = 30,
                       .square_queries = 300, .num_targets = 9};
  AutoAttackResult full = RunAutoAttack(f, d.x, d.y, ao, nullptr);
  const double aa = full.after.back().second;
  for (const std::string& c : AutoAttackComponents()) {
    AutoAttackOptions one = ao;
    one.components = {c};
    const double alone = RunAutoAttack(f, d.x, d.y, one, nullptr).after.back().second;
    EXPECT_LE(aa, alone + 1e-9) << c;
  }
  // Cumulative accuracies never rise.
  for (size_t i = 1; i < full.after.size(); ++i) {
    EXPECT_LE(full.after[i].second, full.after[i - 1].second);
  }
  at::Tensor adv = Pgd(f, d.x, [&](const at::Tensor& z) { return CrossEntropyPerExample(z, d.y); },
                       {.epsilon = eps, .step_size = eps / 10, .num_steps = 100},
                       at::detail::createCPUGenerator(0));
  EXPECT_LE(aa, Accuracy(net, adv, d.y) + 1e-9);
}

TEST(AutoAttack, GradientMaskingDoesNotFoolTheGradientFreePart) {
  // Quantizing the input (zero gradient almost everywhere) blinds APGD and FAB;
  // Square, which needs no gradients, still breaks the model.
  auto net = TrainedMlp();
  Toy d = MakeData(100, 5);
  ForwardFn masked = [net](const at::Tensor& t) mutable {
    return net->forward(torch::round(t * 4) / 4);
  };
  const double eps = 0.3;
  AutoAttackOptions grad_only{.epsilon = eps, .apgd_iters = 20, .fab_iters = 20,
                              .square_queries = 2000, .num_targets = 9,
                              .components = {"apgd_ce", "apgd_t", "fab_t"}};
  AutoAttackOptions full = grad_only;
  full.components.clear();
  at::Tensor clean_ok;
  {
    torch::NoGradGuard no_grad;
    clean_ok = masked(d.x).argmax(1).eq(d.y);
  }
  const double clean = 100.0 * clean_ok.sum().item<int64_t>() / 100;
  ASSERT_GT(clean, 50.0);
  const double g = RunAutoAttack(masked, d.x, d.y, grad_only, nullptr).after.back().second;
  const double aa = RunAutoAttack(masked, d.x, d.y, full, nullptr).after.back().second;
  EXPECT_GT(g, clean - 20.0);  // the gradient attacks are (mostly) blind
  EXPECT_LT(aa, 15.0);         // Square is not (unmasked, APGD leaves 0%)
}

}  // namespace
}  // namespace spat::attacks
