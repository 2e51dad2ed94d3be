#include "data/idx.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <fstream>

#include "data/internal/test_files.h"
#include "gtest/gtest.h"

namespace spat::data {
namespace {

using ::spat::data::testing::IdxImages;
using ::spat::data::testing::IdxLabels;
using ::spat::data::testing::TempDir;
using ::spat::data::testing::WriteFile;
using ::spat::data::testing::WriteGzip;

std::vector<uint8_t> Pixels(int n) {
  std::vector<uint8_t> p;
  for (int i = 0; i < n; ++i) p.push_back(static_cast<uint8_t>(i * 37 % 256));
  return p;
}

TEST(Idx, ReadsRawImagesScaledToUnitInterval) {
  const std::string path = TempDir() + "/img-raw";
  WriteFile(path, IdxImages(Pixels(2 * 3 * 4), 2, 3, 4));
  absl::StatusOr<at::Tensor> x = ReadIdxImages(path);
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(x->sizes(), at::IntArrayRef({2, 1, 3, 4}));
  EXPECT_EQ(x->scalar_type(), at::kFloat);
  // Pixel 5 of the stream is 5*37 % 256 = 185 -> image 0, row 1, col 1.
  EXPECT_FLOAT_EQ(x->index({0, 0, 1, 1}).item<float>(), 185.0f / 255.0f);
  // Pixel 13 = 13*37 % 256 = 225 -> image 1, row 0, col 1.
  EXPECT_FLOAT_EQ(x->index({1, 0, 0, 1}).item<float>(), 225.0f / 255.0f);
}

TEST(Idx, GzipAndRawGiveTheSameTensor) {
  const std::string bytes = IdxImages(Pixels(3 * 28 * 28), 3, 28, 28);
  WriteFile(TempDir() + "/a", bytes);
  WriteGzip(TempDir() + "/a.gz", bytes);
  absl::StatusOr<at::Tensor> raw = ReadIdxImages(TempDir() + "/a");
  absl::StatusOr<at::Tensor> gz = ReadIdxImages(TempDir() + "/a.gz");
  ASSERT_TRUE(raw.ok() && gz.ok());
  EXPECT_TRUE(at::equal(*raw, *gz));
}

TEST(Idx, ReadsLabels) {
  const std::string path = TempDir() + "/labels.gz";
  WriteGzip(path, IdxLabels({3, 0, 9, 7}));
  absl::StatusOr<at::Tensor> y = ReadIdxLabels(path, 10);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->scalar_type(), at::kLong);
  EXPECT_TRUE(at::equal(*y, at::tensor({3, 0, 9, 7}, at::kLong)));
}

TEST(Idx, RejectsLabelOutOfRangeNamingFileAndIndex) {
  const std::string path = TempDir() + "/bad-labels";
  WriteFile(path, IdxLabels({1, 200, 2}));
  absl::StatusOr<at::Tensor> y = ReadIdxLabels(path, 10);
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find(path), std::string::npos);
  EXPECT_NE(y.status().message().find("label 200 at index 1"),
            std::string::npos)
      << y.status();
}

TEST(Idx, RejectsWrongMagic) {
  const std::string path = TempDir() + "/labels-as-images";
  WriteFile(path, IdxLabels({1, 2}));
  absl::StatusOr<at::Tensor> x = ReadIdxImages(path);
  ASSERT_FALSE(x.ok());
  EXPECT_NE(x.status().message().find("bad magic number 0x00000801"),
            std::string::npos)
      << x.status();
  EXPECT_NE(x.status().message().find(path), std::string::npos);
}

TEST(Idx, RejectsTruncatedData) {
  std::string bytes = IdxImages(Pixels(2 * 4 * 4), 2, 4, 4);
  bytes.resize(bytes.size() - 5);
  const std::string path = TempDir() + "/truncated";
  WriteFile(path, bytes);
  absl::StatusOr<at::Tensor> x = ReadIdxImages(path);
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(x.status().message().find("truncated"), std::string::npos);
}

TEST(Idx, RejectsTruncatedHeaderAndTruncatedGzip) {
  const std::string path = TempDir() + "/short";
  WriteFile(path, std::string("\x00\x00\x08\x03\x00\x00", 6));
  EXPECT_EQ(ReadIdxImages(path).status().code(), absl::StatusCode::kDataLoss);

  // Cut a gzip stream in half: zlib reports the stream as truncated.
  const std::string gz = TempDir() + "/cut.gz";
  WriteGzip(gz, IdxImages(Pixels(50 * 28 * 28), 50, 28, 28));
  std::ifstream in(gz, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  WriteFile(gz, bytes.substr(0, bytes.size() / 2));
  absl::StatusOr<at::Tensor> x = ReadIdxImages(gz);
  ASSERT_FALSE(x.ok());
  EXPECT_NE(x.status().message().find(gz), std::string::npos);
}

TEST(Idx, RejectsTrailingBytesAsDimensionMismatch) {
  const std::string path = TempDir() + "/long";
  WriteFile(path, IdxImages(Pixels(2 * 2 * 2 + 3), 2, 2, 2));
  absl::StatusOr<at::Tensor> x = ReadIdxImages(path);
  ASSERT_FALSE(x.ok());
  EXPECT_NE(x.status().message().find("dimension mismatch"),
            std::string::npos);
}

TEST(Idx, MissingFileIsNotFound) {
  absl::StatusOr<at::Tensor> x = ReadIdxImages(TempDir() + "/nope");
  EXPECT_EQ(x.status().code(), absl::StatusCode::kNotFound);
}

std::string MnistDir() {
  const char* d = std::getenv("SPAT_DATA_DIR");
  const char* home = std::getenv("HOME");
  if (d != nullptr && *d) return std::string(d) + "/mnist";
  return std::string(home != nullptr ? home : "") + "/.cache/spat/mnist";
}

TEST(Idx, RealMnistWhenPresent) {
  const std::string dir = MnistDir();
  absl::StatusOr<at::Tensor> y = ReadIdxLabels(dir + "/t10k-labels-idx1-ubyte");
  if (!y.ok()) GTEST_SKIP() << "MNIST not installed in " << dir;
  absl::StatusOr<at::Tensor> x = ReadIdxImages(dir + "/t10k-images-idx3-ubyte");
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(x->sizes(), at::IntArrayRef({10000, 1, 28, 28}));
  // The official test set starts 7, 2, 1, 0, 4 and holds 1,135 ones.
  EXPECT_TRUE(at::equal(y->slice(0, 0, 5),
                        at::tensor({7, 2, 1, 0, 4}, at::kLong)));
  EXPECT_EQ(y->eq(1).sum().item<int64_t>(), 1135);
  EXPECT_GE(x->min().item<float>(), 0.0f);
  EXPECT_LE(x->max().item<float>(), 1.0f);
}

TEST(Idx, RealFashionMnistGzipWhenPresent) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  absl::StatusOr<at::Tensor> y =
      ReadIdxLabels(dir + "/t10k-labels-idx1-ubyte.gz");
  if (!y.ok()) GTEST_SKIP() << "Fashion-MNIST not installed in " << dir;
  absl::StatusOr<at::Tensor> x =
      ReadIdxImages(dir + "/t10k-images-idx3-ubyte.gz");
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(x->sizes(), at::IntArrayRef({10000, 1, 28, 28}));
  // Balanced: 1,000 test images per class; the first is an ankle boot (9).
  EXPECT_TRUE(at::equal(at::bincount(*y), at::full({10}, 1000, at::kLong)));
  EXPECT_EQ((*y)[0].item<int64_t>(), 9);
}

}  // namespace
}  // namespace spat::data
