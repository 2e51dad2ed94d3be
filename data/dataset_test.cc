#include "data/dataset.h"

#include <ATen/ATen.h>
#include <sys/stat.h>

#include "data/internal/test_files.h"
#include "gtest/gtest.h"

namespace spat::data {
namespace {

using ::spat::data::testing::IdxImages;
using ::spat::data::testing::IdxLabels;
using ::spat::data::testing::TempDir;
using ::spat::data::testing::WriteFile;
using ::spat::data::testing::WriteGzip;

std::string MakeTinyMnist() {
  const std::string dir = TempDir() + "/tiny-mnist";
  mkdir(dir.c_str(), 0755);
  std::vector<uint8_t> px(5 * 28 * 28, 128);
  WriteFile(dir + "/train-images-idx3-ubyte", IdxImages(px, 5, 28, 28));
  WriteFile(dir + "/train-labels-idx1-ubyte", IdxLabels({0, 1, 2, 3, 4}));
  WriteGzip(dir + "/t10k-images-idx3-ubyte.gz",
            IdxImages(std::vector<uint8_t>(2 * 28 * 28, 0), 2, 28, 28));
  WriteGzip(dir + "/t10k-labels-idx1-ubyte.gz", IdxLabels({9, 8}));
  return dir;
}

TEST(Dataset, LoadsIdxFromDirectoryRawOrGzip) {
  const std::string dir = MakeTinyMnist();
  absl::StatusOr<Dataset> train =
      LoadDataset({"mnist", dir}, Split::kTrain, /*subset=*/3);
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->size(), 3);
  EXPECT_TRUE(at::equal(train->labels, at::tensor({0, 1, 2}, at::kLong)));
  EXPECT_EQ(train->class_names.size(), 10u);
  absl::StatusOr<Dataset> test = LoadDataset({"mnist", dir}, Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->size(), 2);
}

TEST(Dataset, SubsetLargerThanSplitIsAnError) {
  absl::StatusOr<Dataset> d =
      LoadDataset({"mnist", MakeTinyMnist()}, Split::kTrain, 6);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("only 5 examples"), std::string::npos);
}

TEST(Dataset, MismatchedImageAndLabelCountsAreAnError) {
  const std::string dir = MakeTinyMnist();
  WriteFile(dir + "/train-labels-idx1-ubyte", IdxLabels({0, 1}));
  absl::StatusOr<Dataset> d = LoadDataset({"mnist", dir}, Split::kTrain);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("holds 5 images but"),
            std::string::npos);
}

TEST(Dataset, UnknownNameAndMissingDirectoryAreClearErrors) {
  absl::StatusOr<Dataset> d = LoadDataset({"imagenet", ""}, Split::kTrain);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("unknown dataset 'imagenet'"),
            std::string::npos);
  absl::StatusOr<Dataset> m =
      LoadDataset({"mnist", "/nonexistent/spat"}, Split::kTrain);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("/nonexistent/spat"), std::string::npos);
}

TEST(Dataset, SyntheticCifarIsDeterministicAndCifarShaped) {
  absl::StatusOr<Dataset> a = LoadDataset({"synthetic_cifar10", ""}, Split::kTrain, 100);
  absl::StatusOr<Dataset> b = LoadDataset({"synthetic_cifar10", ""}, Split::kTrain, 100);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->images.sizes(), at::IntArrayRef({100, 3, 32, 32}));
  EXPECT_TRUE(at::equal(a->images, b->images));
  EXPECT_GE(a->images.min().item<float>(), 0.0f);
  EXPECT_LE(a->images.max().item<float>(), 1.0f);
  EXPECT_GE(a->labels.min().item<int64_t>(), 0);
  EXPECT_LT(a->labels.max().item<int64_t>(), 10);
}

TEST(Dataset, RealMnistWhenPresent) {
  absl::StatusOr<Dataset> d = LoadDataset({"mnist", ""}, Split::kTrain);
  if (!d.ok()) GTEST_SKIP() << d.status();
  EXPECT_EQ(d->images.sizes(), at::IntArrayRef({60000, 1, 28, 28}));
  EXPECT_EQ(d->labels[0].item<int64_t>(), 5);  // the famous first "5"
}

TEST(Dataset, RealFashionMnistWhenPresent) {
  absl::StatusOr<Dataset> d = LoadDataset({"fashion_mnist", ""}, Split::kTrain, 1000);
  if (!d.ok()) GTEST_SKIP() << d.status();
  EXPECT_EQ(d->images.sizes(), at::IntArrayRef({1000, 1, 28, 28}));
  EXPECT_EQ(d->class_names[6], "Shirt");
}

}  // namespace
}  // namespace spat::data
