#include "data/dataset.h"

#include <ATen/ATen.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "data/internal/test_files.h"
#include "gtest/gtest.h"

namespace spat::data {
namespace {

using ::spat::data::testing::IdxImages;
using ::spat::data::testing::IdxLabels;
using ::spat::data::testing::Npy;
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

std::string Floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

std::string Longs(const std::vector<int64_t>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(int64_t));
}

// A user's test set as .npy: images [2, 1, 2, 2] and labels [2].
TEST(Dataset, NpyTestSetIsCheckedAndLoaded) {
  const std::string dir = TempDir();
  const std::string x = dir + "/x.npy", y = dir + "/y.npy";
  WriteFile(x, Npy("<f4", "(2, 1, 2, 2)", Floats({0, 0.5f, 1, 0.25f, 0.1f, 0.2f, 0.3f, 0.4f})));
  WriteFile(y, Npy("<i8", "(2,)", Longs({3, 1})));
  absl::StatusOr<Dataset> d = LoadNpyTestSet(x, y);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->images.sizes(), at::IntArrayRef({2, 1, 2, 2}));
  EXPECT_EQ(d->labels[0].item<int64_t>(), 3);
  EXPECT_EQ(d->num_classes, 4);
  EXPECT_EQ(d->name, "npy:" + x);

  auto refused = [&](const std::string& images, const std::string& labels,
                     const std::string& file, const std::string& part) {
    absl::StatusOr<Dataset> r = LoadNpyTestSet(images, labels);
    ASSERT_FALSE(r.ok()) << part;
    EXPECT_NE(r.status().message().find(file), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status();
  };
  const std::string big = dir + "/big.npy", u8 = dir + "/u8.npy", flat = dir + "/flat.npy";
  WriteFile(big, Npy("<f4", "(1, 1, 1, 2)", Floats({0.5f, 255})));
  refused(big, y, big, "must be finite and in [0, 1]");
  WriteFile(u8, Npy("|u1", "(1, 1, 1, 2)", std::string("\x01\x02", 2)));
  refused(u8, y, u8, "expected float32 or float64");
  WriteFile(flat, Npy("<f4", "(2, 4)", Floats({0, 0, 0, 0, 0, 0, 0, 0})));
  refused(flat, y, flat, "expected [N, C, H, W]");
  const std::string fy = dir + "/fy.npy", y3 = dir + "/y3.npy", neg = dir + "/neg.npy";
  WriteFile(fy, Npy("<f4", "(2,)", Floats({1, 2})));
  refused(x, fy, fy, "expected integer class indices [N]");
  WriteFile(y3, Npy("<i8", "(3,)", Longs({0, 1, 2})));
  refused(x, y3, y3, "3 labels for the 2 images");
  WriteFile(neg, Npy("<i8", "(2,)", Longs({0, -1})));
  refused(x, neg, neg, "labels are >= 0");
  absl::StatusOr<Dataset> missing = LoadNpyTestSet(dir + "/none.npy", y);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
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
