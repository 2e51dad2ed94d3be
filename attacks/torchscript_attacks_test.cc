// The attack suite on a TorchScript module gives what it gives on the same
// weights loaded natively: the project's LeNet-5 transfer source, exported
// by tools/export_torchscript.py (fixtures), under every attack of
// //attacks:evaluate with the same seed, white-box and transferred (the
// TorchScript module as the source too), on the first 100 MNIST test images.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "attacks/evaluator.h"
#include "data/dataset.h"
#include "gtest/gtest.h"
#include "models/load_model.h"
#include "models/torchscript.h"

namespace spat::attacks {
namespace {

TEST(TorchScriptAttacks, EveryAttackGivesTheNativeModelsAccuracy) {
  absl::StatusOr<data::Dataset> test = data::LoadDataset(
      {"mnist", data::DefaultDataDir("mnist")}, data::Split::kTest, 100);
  if (!test.ok()) GTEST_SKIP() << "no MNIST here (tools/setup.sh fetches it): " << test.status();
  absl::StatusOr<models::TorchScriptModel> ts = models::LoadTorchScript(
      "models/testdata/lenet5_torchscript.pt", test->images, c10::kCPU);
  ASSERT_TRUE(ts.ok()) << ts.status();
  models::ModelSpec spec;
  spec.name = "lenet5";
  spec.num_classes = 10;
  spec.in_channels = 1;
  spec.image_size = 28;
  absl::StatusOr<std::shared_ptr<models::Classifier>> native =
      models::LoadModel("results/long/cells/source_lenet5/checkpoint.pt", spec);
  ASSERT_TRUE(native.ok()) << native.status();
  std::shared_ptr<models::Classifier> m = *native;
  const ForwardFn native_fn = [m](const at::Tensor& x) { return m->forward(x); };
  EvaluatorOptions eo;
  eo.epsilon = 0.1;  // a natural model keeps some accuracy: the attacks' numbers differ
  eo.seed = 7;
  eo.apgd_iters = 10;
  eo.fab_iters = 10;
  eo.square_queries = 50;
  at::set_num_threads(1);
  for (const std::string name : {"clean", "fgsm", "pgd20", "mim20", "cw", "apgd_ce", "apgd_t",
                                 "fab", "square", "aa", "transfer_fgsm", "transfer_pgd20"}) {
    absl::StatusOr<AttackSpec> s = ParseAttack(name);
    ASSERT_TRUE(s.ok()) << s.status();
    // Transferred: crafted on the same weights, in the other form.
    const AttackOutcome a =
        RunAttack(*s, ts->forward, native_fn, test->images, test->labels, eo, nullptr);
    const AttackOutcome b =
        RunAttack(*s, native_fn, ts->forward, test->images, test->labels, eo, nullptr);
    // The same kernels on the same CPU: the same images, up to one image of
    // float rounding between the interpreter and the native module.
    EXPECT_NEAR(a.accuracy, b.accuracy, 1.0) << name;
    EXPECT_EQ(a.clean_accuracy, b.clean_accuracy) << name;
  }
}

}  // namespace
}  // namespace spat::attacks
