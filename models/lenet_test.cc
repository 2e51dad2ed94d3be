#include "models/lenet.h"

#include "gtest/gtest.h"
#include "models/internal/reference_testing.h"

namespace spat::models {
namespace {

using testing::ExpectMatchesPyTorch;
using testing::NumParameters;
using testing::OwnKeys;
using testing::ReferenceKeys;

TEST(LeNet5, KeysAndShapesMatchReference) {
  LeNet5 net(LeNetOptions{});
  EXPECT_EQ(OwnKeys(*net), ReferenceKeys("lenet5"));
  // 156 + 2,416 + 48,120 + 10,164 + 850.
  EXPECT_EQ(NumParameters(*net), 61706);
}

TEST(LeNet5, LoadsWrappedStateDictAndReproducesPyTorch) {
  // Saved as torch.save({'state_dict': sd, 'epoch': 3, 'best_acc': 0.25}).
  LeNet5 net(LeNetOptions{});
  ExpectMatchesPyTorch(*net, "lenet5_wrapped");
}

TEST(LeNet5, Unpadded32x32Variant) {
  LeNetOptions o;
  o.in_channels = 3;
  o.image_size = 32;
  LeNet5 net(o);
  EXPECT_EQ(net->forward(torch::rand({2, 3, 32, 32})).sizes(),
            at::IntArrayRef({2, 10}));
}

}  // namespace
}  // namespace spat::models
