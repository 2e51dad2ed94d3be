#include "models/small_cnn.h"

#include "gtest/gtest.h"
#include "models/internal/reference_testing.h"

namespace spat::models {
namespace {

using testing::ExpectMatchesPyTorch;
using testing::NumParameters;
using testing::OwnKeys;
using testing::ReferenceKeys;

TEST(SmallCNN, KeysAndShapesMatchReference) {
  SmallCNN net(SmallCnnOptions{});
  EXPECT_EQ(OwnKeys(*net), ReferenceKeys("small_cnn"));
  // 320 + 9,248 + 18,496 + 36,928 + 205,000 + 40,200 + 2,010.
  EXPECT_EQ(NumParameters(*net), 312202);
}

TEST(SmallCNN, ReproducesPyTorchOutputs) {
  SmallCNN net(SmallCnnOptions{});
  ExpectMatchesPyTorch(*net, "small_cnn");
}

TEST(SmallCNN, ReferenceInitZeroesTheOutputLayer) {
  SmallCNN net(SmallCnnOptions{});
  at::Tensor logits = net->forward(torch::rand({2, 1, 28, 28}));
  EXPECT_EQ(logits.sizes(), at::IntArrayRef({2, 10}));
  EXPECT_EQ(logits.abs().max().item<float>(), 0.0f);
}

TEST(SmallCNN, NceHeadReplacesBiasWithScaleBuffer) {
  SmallCnnOptions o;
  o.head = {HeadType::kNce, 5.0};
  SmallCNN net(o);
  std::vector<std::string> keys = OwnKeys(*net);
  EXPECT_EQ(keys.back(), "classifier.fc3.s\t");
  EXPECT_EQ(keys[keys.size() - 2], "classifier.fc3.weight\t10,200");
  net->eval();
  at::Tensor logits = net->forward(torch::rand({3, 1, 28, 28}));
  EXPECT_LE(logits.abs().max().item<float>(), 5.0f + 1e-5f);
  EXPECT_EQ(net->Features(torch::rand({3, 1, 28, 28})).sizes(),
            at::IntArrayRef({3, 200}));
  EXPECT_EQ(net->Prototypes().sizes(), at::IntArrayRef({10, 200}));
}

TEST(SmallCNN, DropoutOnlyInTraining) {
  SmallCNN net(SmallCnnOptions{});
  at::Tensor x = torch::rand({4, 1, 28, 28});
  net->eval();
  EXPECT_TRUE(torch::equal(net->Features(x), net->Features(x)));
  net->train();
  torch::manual_seed(1);
  at::Tensor a = net->Features(x);
  at::Tensor b = net->Features(x);
  EXPECT_FALSE(torch::equal(a, b));
}

}  // namespace
}  // namespace spat::models
