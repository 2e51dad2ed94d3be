#include "data/cifar10.h"

#include <ATen/ATen.h>
#include <sys/stat.h>

#include "data/internal/test_files.h"
#include "gtest/gtest.h"

namespace spat::data {
namespace {

using ::spat::data::testing::CifarRecords;
using ::spat::data::testing::Npy;
using ::spat::data::testing::TempDir;
using ::spat::data::testing::WriteFile;

TEST(Cifar10, ReadsRecordsChannelMajor) {
  const std::string path = TempDir() + "/batch.bin";
  WriteFile(path, CifarRecords({6, 9, 0}));
  absl::StatusOr<LabeledImages> b = ReadCifar10Batch(path);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->images.sizes(), at::IntArrayRef({3, 3, 32, 32}));
  EXPECT_TRUE(at::equal(b->labels, at::tensor({6, 9, 0}, at::kLong)));
  // Record 1, pixel index 1024 + 32*2 + 5 (channel 1, row 2, col 5):
  // value (1*7 + 1093) % 256 = 76.
  EXPECT_FLOAT_EQ(b->images.index({1, 1, 2, 5}).item<float>(), 76.0f / 255.0f);
}

TEST(Cifar10, RejectsTruncatedFile) {
  std::string bytes = CifarRecords({1, 2});
  const std::string path = TempDir() + "/cut.bin";
  WriteFile(path, bytes.substr(0, bytes.size() - 100));
  absl::StatusOr<LabeledImages> b = ReadCifar10Batch(path);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find(path), std::string::npos);
  EXPECT_NE(b.status().message().find("3073"), std::string::npos);
}

TEST(Cifar10, RejectsLabelOutOfRange) {
  const std::string path = TempDir() + "/badlabel.bin";
  WriteFile(path, CifarRecords({1, 200}));
  absl::StatusOr<LabeledImages> b = ReadCifar10Batch(path);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("label 200 of record 1"),
            std::string::npos)
      << b.status();
}

TEST(Cifar10, ReadsTrainAndTestSplitsFromDirectory) {
  const std::string dir = TempDir() + "/cifar";
  mkdir(dir.c_str(), 0755);
  for (int i = 1; i <= 5; ++i) {
    WriteFile(dir + "/data_batch_" + std::to_string(i) + ".bin",
              CifarRecords({static_cast<uint8_t>(i), 0}));
  }
  WriteFile(dir + "/test_batch.bin", CifarRecords({3}));
  absl::StatusOr<LabeledImages> train = ReadCifar10(dir, true);
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->labels.size(0), 10);
  EXPECT_TRUE(at::equal(train->labels.slice(0, 0, 10, 2),
                        at::tensor({1, 2, 3, 4, 5}, at::kLong)));
  absl::StatusOr<LabeledImages> test = ReadCifar10(dir, false);
  ASSERT_TRUE(test.ok());
  EXPECT_EQ(test->labels.size(0), 1);

  std::remove((dir + "/data_batch_4.bin").c_str());
  absl::StatusOr<LabeledImages> missing = ReadCifar10(dir, true);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("data_batch_4.bin"),
            std::string::npos);
}

TEST(Cifar10C, SlicesSeverityAndConvertsLayout) {
  const std::string dir = TempDir() + "/cifar-c";
  mkdir(dir.c_str(), 0755);
  // 10 images (2 per severity) of 32x32x3; pixel value = image index * 10 +
  // channel.
  std::string pixels;
  for (int i = 0; i < 10; ++i) {
    for (int p = 0; p < 32 * 32; ++p) {
      for (int c = 0; c < 3; ++c) pixels.push_back(static_cast<char>(i * 10 + c));
    }
  }
  WriteFile(dir + "/fog.npy", Npy("|u1", "(10, 32, 32, 3)", pixels));
  WriteFile(dir + "/labels.npy",
            Npy("|u1", "(10,)", std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10)));
  absl::StatusOr<LabeledImages> s3 = ReadCifar10C(dir, "fog", 3);
  ASSERT_TRUE(s3.ok()) << s3.status();
  EXPECT_EQ(s3->images.sizes(), at::IntArrayRef({2, 3, 32, 32}));
  EXPECT_TRUE(at::equal(s3->labels, at::tensor({4, 5}, at::kLong)));
  // Image 5, channel 2 -> 52.
  EXPECT_FLOAT_EQ(s3->images.index({1, 2, 7, 9}).item<float>(), 52.0f / 255.0f);
  EXPECT_FALSE(ReadCifar10C(dir, "fog", 6).ok());
  absl::StatusOr<LabeledImages> missing = ReadCifar10C(dir, "snow", 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("snow.npy"), std::string::npos);
}

TEST(Cifar10C, RejectsWrongShape) {
  const std::string dir = TempDir() + "/cifar-c-bad";
  mkdir(dir.c_str(), 0755);
  WriteFile(dir + "/fog.npy", Npy("|u1", "(5, 4, 4, 3)", std::string(240, 'a')));
  WriteFile(dir + "/labels.npy", Npy("|u1", "(5,)", std::string(5, '\0')));
  absl::StatusOr<LabeledImages> s = ReadCifar10C(dir, "fog", 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("expected uint8 [N, 32, 32, 3]"),
            std::string::npos)
      << s.status();
}

}  // namespace
}  // namespace spat::data
