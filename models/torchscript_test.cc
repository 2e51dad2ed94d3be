#include "models/torchscript.h"

#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "models/load_model.h"

namespace spat::models {
namespace {

const char kLeNet[] = "models/testdata/lenet5_torchscript.pt";
// The same weights as the project's checkpoint (tools/export_torchscript.py
// fixtures exported them from it).
const char kLeNetCheckpoint[] = "results/long/cells/source_lenet5/checkpoint.pt";

at::Tensor Probe() {
  torch::manual_seed(3);
  return torch::rand({8, 1, 28, 28});
}

TEST(TorchScript, GivesTheLogitsOfTheSameWeightsLoadedNatively) {
  absl::StatusOr<TorchScriptModel> ts = LoadTorchScript(kLeNet, Probe(), c10::kCPU);
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(ts->num_classes, 10);
  EXPECT_TRUE(ts->warning.empty()) << ts->warning;
  ModelSpec spec;
  spec.name = "lenet5";
  spec.num_classes = 10;
  spec.in_channels = 1;
  spec.image_size = 28;
  absl::StatusOr<std::shared_ptr<Classifier>> native = LoadModel(kLeNetCheckpoint, spec);
  ASSERT_TRUE(native.ok()) << native.status();
  (*native)->eval();
  const at::Tensor x = Probe();
  torch::NoGradGuard no_grad;
  const at::Tensor a = ts->forward(x), b = (*native)->forward(x);
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-5)) << (a - b).abs().max();
}

TEST(TorchScript, TheInputGradientFlows) {
  absl::StatusOr<TorchScriptModel> ts = LoadTorchScript(kLeNet, Probe(), c10::kCPU);
  ASSERT_TRUE(ts.ok()) << ts.status();
  at::Tensor x = Probe().requires_grad_();
  ts->forward(x).sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().max().item<double>(), 0);
}

void ExpectRefused(const std::string& path, const at::Tensor& probe, absl::StatusCode code,
                   const std::string& part) {
  absl::StatusOr<TorchScriptModel> ts = LoadTorchScript(path, probe, c10::kCPU);
  ASSERT_FALSE(ts.ok()) << path;
  EXPECT_EQ(ts.status().code(), code) << ts.status();
  EXPECT_NE(ts.status().message().find(path), std::string::npos) << ts.status();
  EXPECT_NE(ts.status().message().find(part), std::string::npos) << ts.status();
}

TEST(TorchScript, BadModulesGetAnErrorNamingTheFileAndTheFault) {
  ExpectRefused("models/testdata/no_such.pt", Probe(), absl::StatusCode::kNotFound,
                "no such file");
  ExpectRefused("models/testdata/torchscript_wrong_output.pt", Probe(),
                absl::StatusCode::kInvalidArgument, "not logits [2, classes]");
  ExpectRefused("models/testdata/torchscript_detached.pt", Probe(),
                absl::StatusCode::kInvalidArgument, "not differentiable");
  ExpectRefused("models/testdata/torchscript_future_version.pt", Probe(),
                absl::StatusCode::kInvalidArgument, "saved by a newer torch than the LibTorch");
  // A state dict of ours is not a module.
  ExpectRefused(kLeNetCheckpoint, Probe(), absl::StatusCode::kInvalidArgument,
                "not a TorchScript module");
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string text = std::string(tmp != nullptr ? tmp : "/tmp") + "/not_a_module.pt";
  std::ofstream(text) << "hello\n";
  ExpectRefused(text, Probe(), absl::StatusCode::kInvalidArgument, "not a TorchScript module");
  // Images the module cannot take (CIFAR-shaped into LeNet-5 for MNIST).
  ExpectRefused(kLeNet, torch::rand({2, 3, 32, 32}), absl::StatusCode::kInvalidArgument,
                "forward failed on images of shape [2, 3, 32, 32]");
}

}  // namespace
}  // namespace spat::models
