#include "models/resnet.h"

#include "gtest/gtest.h"
#include "models/internal/reference_testing.h"

namespace spat::models {
namespace {

using testing::ExpectMatchesPyTorch;
using testing::NumParameters;
using testing::OwnKeys;
using testing::ReferenceKeys;

struct Case {
  const char* name;
  ResNetOptions options;
  int64_t params;  // the well-known CIFAR-variant counts
};

TEST(ResNet, KeysShapesAndParameterCountsMatchReference) {
  for (const Case& c : {Case{"resnet18", ResNetOptions::ResNet18(), 11173962},
                        Case{"resnet34", ResNetOptions::ResNet34(), 21282122},
                        Case{"resnet50", ResNetOptions::ResNet50(), 23520842},
                        Case{"resnet101", ResNetOptions::ResNet101(), 42512970}}) {
    ResNet net(c.options);
    EXPECT_EQ(OwnKeys(*net), ReferenceKeys(c.name)) << c.name;
    EXPECT_EQ(NumParameters(*net), c.params) << c.name;
  }
}

TEST(ResNet, BasicBlockReproducesPyTorch) {
  ResNetOptions o = ResNetOptions::ResNet18();
  o.base_width = 8;
  ResNet net(o);
  ExpectMatchesPyTorch(*net, "resnet18_w8");
}

TEST(ResNet, BottleneckReproducesPyTorch) {
  ResNetOptions o = ResNetOptions::ResNet50();
  o.base_width = 4;
  ResNet net(o);
  ExpectMatchesPyTorch(*net, "resnet50_w4");
}

TEST(ResNet, FeaturesAndPrototypes) {
  ResNetOptions o = ResNetOptions::ResNet18();
  o.base_width = 8;
  o.in_channels = 1;
  ResNet net(o);
  net->eval();
  at::Tensor x = torch::rand({2, 1, 28, 28});
  EXPECT_EQ(net->Features(x).sizes(), at::IntArrayRef({2, 64}));
  EXPECT_EQ(net->Prototypes().sizes(), at::IntArrayRef({10, 64}));
  EXPECT_EQ(net->forward(x).sizes(), at::IntArrayRef({2, 10}));
}

}  // namespace
}  // namespace spat::models
