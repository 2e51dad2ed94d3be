#include "models/wide_resnet.h"

#include "gtest/gtest.h"
#include "models/internal/reference_testing.h"

namespace spat::models {
namespace {

using testing::ExpectMatchesPyTorch;
using testing::NumParameters;
using testing::OwnKeys;
using testing::ReferenceKeys;

TEST(WideResNet, KeysAndShapesMatchReferenceWithoutSubBlock) {
  WideResNet net(WideResNetOptions{});
  EXPECT_EQ(OwnKeys(*net), ReferenceKeys("wrn34_10", "sub_block1."));
  // The widely quoted 46.16M of WRN-34-10 (sub_block1 excluded).
  EXPECT_EQ(NumParameters(*net), 46160474);
}

TEST(WideResNet, LoadsDataParallelCheckpointWithSubBlockAndReproducesPyTorch) {
  WideResNetOptions o;
  o.depth = 10;
  o.widen_factor = 2;
  WideResNet net(o);
  ExpectMatchesPyTorch(*net, "wrn10_2_dataparallel",
                       net->IgnoredCheckpointPrefixes());
}

TEST(WideResNet, RejectsBadDepth) {
  WideResNetOptions o;
  o.depth = 33;
  EXPECT_THROW(WideResNet{o}, c10::Error);
}

}  // namespace
}  // namespace spat::models
