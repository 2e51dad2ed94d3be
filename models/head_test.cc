#include "models/head.h"

#include <cmath>

#include <torch/torch.h>

#include "gtest/gtest.h"
#include "models/checkpoint.h"

namespace spat::models {
namespace {

TEST(ClassHead, LinearIsAffine) {
  ClassHead head(3, 2, HeadOptions{});
  torch::NoGradGuard no_grad;
  head->weight.copy_(torch::tensor({{1.0f, 2.0f, 3.0f}, {0.0f, -1.0f, 0.5f}}));
  head->bias.copy_(torch::tensor({0.5f, -0.5f}));
  at::Tensor z = torch::tensor({{1.0f, 1.0f, 2.0f}});
  // [1+2+6+0.5, 0-1+1-0.5]
  EXPECT_TRUE(torch::allclose(head->forward(z), torch::tensor({{9.5f, -0.5f}})));
}

TEST(ClassHead, NceLogitsAreScaledCosinesByHand) {
  ClassHead head(2, 3, HeadOptions{HeadType::kNce, 5.0});
  torch::NoGradGuard no_grad;
  // Prototypes of different norms: only their direction matters.
  head->weight.copy_(torch::tensor({{1.0f, 0.0f}, {0.0f, 2.0f}, {-3.0f, -3.0f}}));
  at::Tensor z = torch::tensor({{3.0f, 4.0f}});  // |z| = 5
  // cos = [3/5, 4/5, -7/(5*sqrt 2)]
  const float c3 = -7.0f / (5.0f * std::sqrt(2.0f));
  EXPECT_TRUE(torch::allclose(head->Cosines(z), torch::tensor({{0.6f, 0.8f, c3}}),
                              1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(head->forward(z),
                              torch::tensor({{3.0f, 4.0f, 5.0f * c3}}), 1e-5, 1e-5));
  EXPECT_DOUBLE_EQ(head->scale(), 5.0);
}

TEST(ClassHead, NceScaleIsABufferInTheStateDict) {
  ClassHead head(4, 10, HeadOptions{HeadType::kNce, 8.0});
  StateDict sd = GetStateDict(*head);
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_EQ(sd[0].first, "weight");
  EXPECT_EQ(sd[1].first, "s");
  EXPECT_EQ(sd[1].second.dim(), 0);
  EXPECT_FLOAT_EQ(sd[1].second.item<float>(), 8.0f);
  EXPECT_EQ(head->parameters().size(), 1u);  // s is not trained
}

TEST(ClassHead, NceInvariantToFeatureScale) {
  ClassHead head(8, 10, HeadOptions{HeadType::kNce, 5.0});
  at::Tensor z = torch::randn({4, 8});
  EXPECT_TRUE(torch::allclose(head->forward(z), head->forward(z * 7.5), 1e-5, 1e-5));
}

// prototype_std > 0: N(0, std^2) prototypes (the authors' SPAT script);
// 0: nn.Linear's Kaiming-uniform, bound 1/sqrt(in_features).
TEST(ClassHead, PrototypeInitIsNnLinearsOrASmallNormal) {
  torch::manual_seed(4);
  ClassHead linear_init(200, 10, HeadOptions{HeadType::kNce, 5.0});
  EXPECT_LE(linear_init->weight.abs().max().item<double>(), 1.0 / std::sqrt(200.0) + 1e-7);
  EXPECT_NEAR(linear_init->weight.std().item<double>(), 1.0 / std::sqrt(3.0 * 200), 0.003);
  ClassHead normal(200, 10, HeadOptions{HeadType::kNce, 5.0, 0.01});
  EXPECT_NEAR(normal->weight.std().item<double>(), 0.01, 0.001);
  EXPECT_NEAR(normal->weight.mean().item<double>(), 0.0, 0.002);
  EXPECT_GT(normal->weight.abs().max().item<double>(), 0.03);  // unbounded, not uniform
  EXPECT_THROW(ClassHead(8, 10, HeadOptions{HeadType::kNce, 5.0, -1.0}), c10::Error);
}

TEST(ClassHead, RejectsBadShapesAndScale) {
  ClassHead head(8, 10, HeadOptions{});
  EXPECT_THROW(head->forward(torch::randn({4, 7})), c10::Error);
  EXPECT_THROW(ClassHead(8, 10, HeadOptions{HeadType::kNce, 0.0}), c10::Error);
}

}  // namespace
}  // namespace spat::models
