#include "data/loader.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <set>

#include "gtest/gtest.h"

namespace spat::data {
namespace {

Dataset Counting(int64_t n) {
  Dataset d;
  d.name = "counting";
  d.labels = at::arange(n, at::kLong);
  d.images = at::arange(n, at::kFloat).view({n, 1, 1, 1}).expand({n, 1, 2, 2}).contiguous();
  return d;
}

TEST(SeededPermutation, IsAPermutationAndDependsOnlyOnSeed) {
  std::vector<int64_t> a = SeededPermutation(1000, 42);
  std::vector<int64_t> b = SeededPermutation(1000, 42);
  std::vector<int64_t> c = SeededPermutation(1000, 43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[i], i);
}

TEST(BatchLoader, EpochCoversEveryExampleOnceWithPartialLastBatch) {
  Dataset d = Counting(10);
  BatchLoader loader(d, {.batch_size = 4, .seed = 7});
  ASSERT_EQ(loader.num_batches(), 3);
  std::set<int64_t> seen;
  for (int64_t b = 0; b < 3; ++b) {
    Batch batch = loader.Get(b);
    EXPECT_EQ(batch.x.size(0), b < 2 ? 4 : 2);
    // Images and labels stay paired: image value == label == index.
    EXPECT_TRUE(at::equal(batch.y, batch.index));
    EXPECT_TRUE(at::equal(batch.x.select(1, 0).select(1, 0).select(1, 0),
                          batch.y.to(at::kFloat)));
    for (int64_t i = 0; i < batch.y.size(0); ++i) {
      seen.insert(batch.y[i].item<int64_t>());
    }
  }
  EXPECT_EQ(seen.size(), 10u);
}

TEST(BatchLoader, DropLastAndNoShuffle) {
  Dataset d = Counting(10);
  BatchLoader loader(d, {.batch_size = 4, .seed = 7, .shuffle = false, .drop_last = true});
  EXPECT_EQ(loader.num_batches(), 2);
  EXPECT_TRUE(at::equal(loader.Get(1).y, at::tensor({4, 5, 6, 7}, at::kLong)));
}

TEST(BatchLoader, SameSeedSameOrderNewEpochNewOrder) {
  Dataset d = Counting(64);
  BatchLoader a(d, {.batch_size = 64, .seed = 3});
  BatchLoader b(d, {.batch_size = 64, .seed = 3});
  a.StartEpoch(5);
  b.StartEpoch(5);
  EXPECT_TRUE(at::equal(a.Get(0).y, b.Get(0).y));
  at::Tensor e5 = a.Get(0).y;
  a.StartEpoch(6);
  EXPECT_FALSE(at::equal(a.Get(0).y, e5));
}

TEST(CropAndFlip, ZeroPaddingOnlyFlips) {
  at::Tensor x = at::rand({16, 3, 8, 8});
  at::Tensor y = CropAndFlip(x, 0, 11);
  int flipped = 0;
  for (int64_t i = 0; i < 16; ++i) {
    const bool same = at::equal(y[i], x[i]);
    const bool flip = at::equal(y[i], x[i].flip({2}));
    EXPECT_TRUE(same || flip);
    flipped += (flip && !same);
  }
  // 16 fair coins: all heads or all tails has probability 2^-15.
  EXPECT_GT(flipped, 0);
  EXPECT_LT(flipped, 16);
}

TEST(CropAndFlip, CropIsAShiftOfThePaddedImage) {
  // A single bright pixel moves by at most `padding` in each direction (after
  // undoing a flip) and is lost only if it is shifted out.
  at::Tensor x = at::zeros({64, 1, 32, 32});
  x.index_put_({at::indexing::Slice(), 0, 16, 16}, 1.0);
  at::Tensor y = CropAndFlip(x, 4, 5);
  for (int64_t i = 0; i < 64; ++i) {
    at::Tensor nz = y[i][0].nonzero();
    ASSERT_EQ(nz.size(0), 1);
    const int64_t r = nz[0][0].item<int64_t>();
    const int64_t c = nz[0][1].item<int64_t>();
    EXPECT_LE(std::abs(r - 16), 4);
    EXPECT_TRUE(std::abs(c - 16) <= 4 || std::abs((31 - c) - 16) <= 4);
  }
  EXPECT_TRUE(at::equal(y, CropAndFlip(x, 4, 5)));    // deterministic
  EXPECT_FALSE(at::equal(y, CropAndFlip(x, 4, 6)));   // seed matters
}

}  // namespace
}  // namespace spat::data
