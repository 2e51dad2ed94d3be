#include "models/registry.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace spat::models {
namespace {

TEST(Registry, BuildsEveryKnownModelWithBothHeads) {
  for (const std::string& name : KnownModels()) {
    for (HeadType type : {HeadType::kLinear, HeadType::kNce}) {
      const bool cifar = name != "small_cnn" && name != "lenet5";
      ModelSpec spec{name, 10, cifar ? 3 : 1, cifar ? 32 : 28, {type, 5.0}};
      absl::StatusOr<std::shared_ptr<Classifier>> m = CreateModel(spec);
      ASSERT_TRUE(m.ok()) << name << ": " << m.status();
      (*m)->eval();
      torch::NoGradGuard no_grad;
      at::Tensor x = torch::rand({2, spec.in_channels, spec.image_size, spec.image_size});
      at::Tensor z = (*m)->Features(x);
      at::Tensor logits = (*m)->forward(x);
      EXPECT_EQ(logits.sizes(), at::IntArrayRef({2, 10})) << name;
      EXPECT_EQ(z.dim(), 2) << name;
      EXPECT_EQ((*m)->Prototypes().sizes(), at::IntArrayRef({10, z.size(1)}))
          << name;
      EXPECT_TRUE(torch::isfinite(logits).all().item<bool>()) << name;
      if (type == HeadType::kNce) {
        EXPECT_LE(logits.abs().max().item<float>(), 5.0f + 1e-4f) << name;
      }
    }
  }
}

TEST(Registry, ChannelsLastKeepsEveryModelsFunction) {
  // NHWC conv weights (the trainer's default) change the layout, not the
  // function: same logits up to rounding, and conv outputs come out NHWC.
  for (const std::string& name : KnownModels()) {
    const bool cifar = name != "small_cnn" && name != "lenet5";
    ModelSpec spec{name, 10, cifar ? 3 : 1, cifar ? 32 : 28, {HeadType::kLinear, 5.0}};
    torch::manual_seed(3);
    std::shared_ptr<Classifier> m = *CreateModel(spec);
    m->eval();
    torch::NoGradGuard no_grad;
    at::Tensor x = torch::rand({4, spec.in_channels, spec.image_size, spec.image_size});
    at::Tensor before = m->forward(x);
    ToChannelsLast(*m);
    int convs = 0;
    for (const at::Tensor& p : m->parameters()) {
      if (p.dim() != 4) continue;
      ++convs;
      EXPECT_TRUE(p.is_contiguous(at::MemoryFormat::ChannelsLast)) << name;
    }
    EXPECT_GE(convs, 2) << name;
    at::Tensor after = m->forward(x);
    EXPECT_TRUE(at::allclose(before, after, 1e-4, 1e-5))
        << name << ": " << (before - after).abs().max().item<double>();
  }
}

TEST(Registry, UnknownNameListsKnownModels) {
  absl::StatusOr<std::shared_ptr<Classifier>> m = CreateModel({.name = "vgg16"});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("unknown model 'vgg16'"), std::string::npos);
  EXPECT_NE(m.status().message().find("small_cnn"), std::string::npos);
}

TEST(Registry, RejectsNonsenseSpecs) {
  EXPECT_FALSE(CreateModel({.name = "small_cnn", .num_classes = 1}).ok());
  EXPECT_FALSE(CreateModel({.name = "lenet5", .image_size = 64}).ok());
  EXPECT_FALSE(CreateModel({.name = "small_cnn", .image_size = 8}).ok());
  ModelSpec nce{.name = "small_cnn"};
  nce.head = {HeadType::kNce, -1.0};
  EXPECT_FALSE(CreateModel(nce).ok());
}

// The init option: SmallCNN's reference init (Kaiming-normal convolutions,
// zero biases and output layer) or PyTorch's defaults; LeNet-5 has only the
// latter, so both give the same weights.
TEST(Registry, InitSchemeSelectsTheLayersStart) {
  auto weights = [](const std::string& name, InitScheme init) {
    torch::manual_seed(3);
    ModelSpec spec{name, 10, 1, 28, {}, init};
    std::shared_ptr<Classifier> m = *CreateModel(spec);
    std::vector<at::Tensor> p;
    for (const at::Tensor& t : m->parameters()) p.push_back(t.detach().flatten());
    return torch::cat(p);
  };
  const at::Tensor ref = weights("small_cnn", InitScheme::kReference);
  const at::Tensor def = weights("small_cnn", InitScheme::kTorchDefault);
  EXPECT_FALSE(torch::allclose(ref, def));
  std::shared_ptr<Classifier> m = *CreateModel({"small_cnn", 10, 1, 28, {}, InitScheme::kReference});
  for (const auto& item : m->named_parameters()) {
    const std::string& name = item.key();
    if (name.find("bias") != std::string::npos && name.find("conv") != std::string::npos) {
      EXPECT_EQ(item.value().abs().max().item().toFloat(), 0.0f) << name;
    }
  }
  std::shared_ptr<Classifier> d =
      *CreateModel({"small_cnn", 10, 1, 28, {}, InitScheme::kTorchDefault});
  for (const auto& item : d->named_parameters()) {
    const std::string& name = item.key();
    if (name.find("bias") != std::string::npos) {
      EXPECT_GT(item.value().abs().max().item().toFloat(), 0.0f)
          << name << " keeps PyTorch's uniform bias";
    }
  }
  EXPECT_TRUE(torch::equal(weights("lenet5", InitScheme::kReference),
                           weights("lenet5", InitScheme::kTorchDefault)));
}

}  // namespace
}  // namespace spat::models
