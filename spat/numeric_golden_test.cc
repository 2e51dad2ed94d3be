// Numeric goldens of the building blocks: every loss and its gradient, the
// SPAT gains, a SmallCNN forward from fixed weights, and the first iterations
// of PGD, APGD and Square, on fixed inputs, against
// spat/testdata/numeric_goldens.pt (how and where it was made:
// spat/testdata/numeric_goldens.txt).
//
// The inputs and weights come from closed formulas (sines computed in
// double), not from a random generator, so they are the same bits on every
// machine. What may differ between x86-64 CPUs is float32 reduction order
// (AVX-512 / AVX2 / SSE4.1 kernels, oneDNN vs. native convolutions): a few
// ulp per operation, far below the relative 1e-4 (l2) we allow.
//
// Attacks take signed gradient steps and accept Square proposals on a loss
// comparison, so a component whose gradient (or a margin) is within rounding
// of zero may go either way on another CPU; such a flip moves one pixel by a
// whole step. Attack outputs are therefore compared pixel by pixel: all but
// at most 0.1% of them (6 of 6,272) must agree to 1e-5.
//
// Regenerate after an intended change (tools/regen_goldens.sh):
//   SPAT_REGEN_GOLDENS=1 bazel run //spat:numeric_golden_test
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "attacks/adv_losses.h"
#include "attacks/apgd.h"
#include "attacks/pgd.h"
#include "attacks/square.h"
#include "gtest/gtest.h"
#include "models/checkpoint.h"
#include "models/registry.h"
#include "spat/alp_loss.h"
#include "spat/mart_loss.h"
#include "spat/spat_loss.h"
#include "spat/trades_loss.h"

namespace spat {
namespace {

constexpr int64_t kBatch = 8;
constexpr int64_t kClasses = 10;
constexpr char kGoldens[] = "spat/testdata/numeric_goldens.pt";

// lo + (hi - lo) * (0.5 + 0.5 sin(freq * i + phase)) over the flat index i.
at::Tensor Wave(at::IntArrayRef shape, double freq, double phase, double lo = -1, double hi = 1) {
  at::Tensor t = at::empty(shape, at::kDouble);
  double* p = t.data_ptr<double>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    p[i] = lo + (hi - lo) * (0.5 + 0.5 * std::sin(freq * static_cast<double>(i) + phase));
  }
  return t.to(at::kFloat);
}

at::Tensor Labels() { return at::arange(kBatch, at::kLong).remainder(kClasses); }

at::Tensor Images() { return Wave({kBatch, 1, 28, 28}, 0.731, 0.3, 0, 1); }

// A SmallCNN whose every parameter is a sine wave scaled by 1/sqrt(fan_in).
std::shared_ptr<models::Classifier> FixedSmallCnn() {
  models::ModelSpec spec{.name = "small_cnn", .in_channels = 1, .image_size = 28};
  std::shared_ptr<models::Classifier> model = *models::CreateModel(spec);
  at::NoGradGuard no_grad;
  double phase = 0.1;
  for (auto& [name, v] : models::GetStateDict(*model)) {
    if (!v.is_floating_point()) continue;
    const double scale = v.dim() > 1 ? std::sqrt(3.0 / static_cast<double>(v[0].numel())) : 0.05;
    v.copy_(Wave(v.sizes(), 1.618 + phase, phase, -scale, scale));
    phase += 0.37;
  }
  model->eval();
  return model;
}

struct LossInputs {
  at::Tensor nat, adv, cos, y;
};

LossInputs MakeLossInputs() {
  LossInputs in;
  in.nat = Wave({kBatch, kClasses}, 0.913, 0.2, -4, 4).requires_grad_(true);
  in.adv = Wave({kBatch, kClasses}, 1.177, 1.1, -4, 4).requires_grad_(true);
  in.cos = Wave({kBatch, kClasses}, 0.523, 2.0, -0.95, 0.95).requires_grad_(true);
  in.y = Labels();
  return in;
}

// loss and its gradients with respect to `leaves`, stored under `name`.
void Record(std::map<std::string, at::Tensor>* out, const std::string& name,
            const at::Tensor& loss, const std::vector<std::pair<std::string, at::Tensor>>& leaves) {
  std::vector<at::Tensor> inputs;
  for (const auto& [k, t] : leaves) inputs.push_back(t);
  const std::vector<at::Tensor> grads = torch::autograd::grad({loss}, inputs, {}, true);
  (*out)[name + ".loss"] = loss.detach().clone();
  for (size_t i = 0; i < grads.size(); ++i) {
    (*out)[name + ".grad_" + leaves[i].first] = grads[i].detach().clone();
  }
}

std::map<std::string, at::Tensor> Compute() {
  std::map<std::string, at::Tensor> out;
  LossInputs in = MakeLossInputs();
  const std::vector<std::pair<std::string, at::Tensor>> nat_adv = {{"nat", in.nat},
                                                                   {"adv", in.adv}};
  Record(&out, "ce", attacks::CrossEntropyPerExample(in.nat, in.y).mean(), {{"nat", in.nat}});
  Record(&out, "trades", TradesLoss(in.nat, in.adv, in.y, 6.0), nat_adv);
  Record(&out, "mart", MartLoss(in.nat, in.adv, in.y, 5.0), nat_adv);
  Record(&out, "alp", AlpLoss(in.nat, in.adv, in.y, 0.5), nat_adv);
  SpatLossOptions o;  // s from the logits; alpha = beta = 0.2, lambda = 6
  out["spat.gains"] = SelfPacedGains(in.cos, in.y, o.beta).detach().clone();
  Record(&out, "spat.acc", SelfPacedAccuracyLoss(in.nat, in.cos, in.y, o),
         {{"nat", in.nat}, {"cos", in.cos}});
  Record(&out, "spat.rob", SelfPacedRobustnessPerExample(in.nat, in.adv, o).mean(), nat_adv);
  Record(&out, "spat", SpatLoss(in.nat, in.cos, in.adv, in.y, o),
         {{"nat", in.nat}, {"cos", in.cos}, {"adv", in.adv}});

  std::shared_ptr<models::Classifier> model = FixedSmallCnn();
  const at::Tensor x = Images(), y = Labels();
  {
    at::NoGradGuard no_grad;
    out["small_cnn.logits"] = model->forward(x);
  }
  attacks::ForwardFn fn = [model](const at::Tensor& t) { return model->forward(t); };
  const at::Tensor leaf = x.clone().requires_grad_(true);
  out["small_cnn.input_grad"] =
      attacks::InputGradient(attacks::CrossEntropyPerExample(fn(leaf), y).sum(), leaf);
  attacks::PgdOptions pgd;
  pgd.epsilon = 0.3;
  pgd.step_size = 0.05;
  pgd.num_steps = 1;
  pgd.init = (x + Wave(x.sizes(), 0.291, 0.5, -0.3, 0.3)).clamp(0, 1);
  out["pgd.step"] = attacks::Pgd(
      fn, x, [&y](const at::Tensor& z) { return attacks::CrossEntropyPerExample(z, y); }, pgd,
      at::detail::createCPUGenerator(1));
  attacks::ApgdOptions apgd;
  apgd.epsilon = 0.3;
  apgd.num_iters = 2;
  out["apgd.step"] = attacks::Apgd(fn, x, y, apgd, at::detail::createCPUGenerator(2)).x_adv;
  attacks::SquareOptions square;
  square.epsilon = 0.3;
  square.num_queries = 2;
  out["square.step"] = attacks::SquareLinf(fn, x, y, square, at::detail::createCPUGenerator(3)).x_adv;
  return out;
}

class NumericGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    at::set_num_threads(1);
    got_ = new std::map<std::string, at::Tensor>(Compute());
    absl::StatusOr<models::StateDict> sd = models::LoadStateDict(kGoldens);
    ASSERT_TRUE(sd.ok()) << sd.status();
    want_ = new std::map<std::string, at::Tensor>();
    for (auto& [k, v] : *sd) (*want_)[k] = v;
  }
  const at::Tensor& Got(const std::string& k) { return got_->at(k); }
  at::Tensor Want(const std::string& k) {
    auto it = want_->find(k);
    EXPECT_NE(it, want_->end()) << kGoldens << " has no '" << k << "'";
    return it == want_->end() ? at::Tensor() : it->second;
  }

  // ||got - want|| <= 1e-4 ||want|| (l2 over the tensor).
  void ExpectClose(const std::string& k) {
    const at::Tensor want = Want(k);
    if (!want.defined()) return;
    const at::Tensor got = Got(k);
    ASSERT_EQ(got.sizes(), want.sizes()) << k;
    const double err = (got.to(at::kDouble) - want.to(at::kDouble)).norm().item<double>();
    const double ref = want.to(at::kDouble).norm().item<double>();
    EXPECT_LE(err, 1e-4 * std::max(ref, 1e-12)) << k << ": relative l2 error " << err / ref;
    if (err / std::max(ref, 1e-12) > worst_relative_) {
      worst_relative_ = err / std::max(ref, 1e-12);
      worst_key_ = k;
    }
  }

  // All but 0.1% of the pixels agree to 1e-5 (see the top of the file).
  void ExpectSameAttack(const std::string& k) {
    const at::Tensor want = Want(k);
    if (!want.defined()) return;
    const at::Tensor got = Got(k);
    ASSERT_EQ(got.sizes(), want.sizes()) << k;
    const int64_t off = (got - want).abs().gt(1e-5).sum().item<int64_t>();
    EXPECT_LE(off, want.numel() / 1000) << k << ": " << off << " of " << want.numel()
                                        << " pixels differ";
    most_pixels_off_ = std::max(most_pixels_off_, off);
    // The golden is not a no-op: the attack moved the input.
    EXPECT_GT((want - Images()).abs().max().item<double>(), 0.01) << k;
  }

  // What this machine's kernels gave, for tools/test_kernel_settings.sh's log.
  static void TearDownTestSuite() {
    std::cerr << "largest relative l2 deviation " << worst_relative_ << " (" << worst_key_
              << "); most attack pixels off " << most_pixels_off_ << "\n";
  }

  static std::map<std::string, at::Tensor>* got_;
  static std::map<std::string, at::Tensor>* want_;
  static inline double worst_relative_ = 0;
  static inline std::string worst_key_;
  static inline int64_t most_pixels_off_ = 0;
};

std::map<std::string, at::Tensor>* NumericGolden::got_ = nullptr;
std::map<std::string, at::Tensor>* NumericGolden::want_ = nullptr;

TEST_F(NumericGolden, LossesAndGradients) {
  for (const char* k : {"ce.loss", "ce.grad_nat", "trades.loss", "trades.grad_nat",
                        "trades.grad_adv", "mart.loss", "mart.grad_nat", "mart.grad_adv",
                        "alp.loss", "alp.grad_nat", "alp.grad_adv"}) {
    ExpectClose(k);
  }
}

TEST_F(NumericGolden, SpatGainsAndLoss) {
  for (const char* k : {"spat.gains", "spat.acc.loss", "spat.acc.grad_nat", "spat.acc.grad_cos",
                        "spat.rob.loss", "spat.rob.grad_nat", "spat.rob.grad_adv", "spat.loss",
                        "spat.grad_nat", "spat.grad_cos", "spat.grad_adv"}) {
    ExpectClose(k);
  }
}

TEST_F(NumericGolden, SmallCnnForwardAndInputGradient) {
  ExpectClose("small_cnn.logits");
  ExpectClose("small_cnn.input_grad");
}

TEST_F(NumericGolden, FirstIterationsOfPgdApgdAndSquare) {
  ExpectSameAttack("pgd.step");
  ExpectSameAttack("apgd.step");
  ExpectSameAttack("square.step");
}

TEST_F(NumericGolden, TheComparisonCanFail) {
  // A 1e-3 relative change of a loss gradient is seen.
  const at::Tensor want = Want("spat.grad_nat");
  ASSERT_TRUE(want.defined());
  const at::Tensor bent = want * 1.001;
  EXPECT_GT((bent - want).norm().item<double>(), 1e-4 * want.norm().item<double>());
}

// SPAT_REGEN_GOLDENS=1 bazel run //spat:numeric_golden_test rewrites the
// goldens in the source tree instead of testing.
class Regenerate : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* regen = std::getenv("SPAT_REGEN_GOLDENS");
    const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    if (regen == nullptr || std::string(regen) != "1") return;
    if (ws == nullptr) {
      std::cerr << "SPAT_REGEN_GOLDENS=1 needs `bazel run` (BUILD_WORKSPACE_DIRECTORY)\n";
      std::exit(2);
    }
    at::set_num_threads(1);
    models::StateDict sd;
    for (auto& [k, v] : Compute()) sd.emplace_back(k, v.contiguous());
    const std::string path = std::string(ws) + "/" + kGoldens;
    absl::Status st = models::SaveStateDict(sd, path);
    if (!st.ok()) {
      std::cerr << st << "\n";
      std::exit(1);
    }
    std::cerr << "wrote " << path << "\n";
    std::exit(0);
  }
};

const auto* const kRegenerate = ::testing::AddGlobalTestEnvironment(new Regenerate);

}  // namespace
}  // namespace spat
