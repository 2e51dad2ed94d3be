#include "data/npy.h"

#include <ATen/ATen.h>

#include <cstring>

#include "data/internal/test_files.h"
#include "gtest/gtest.h"

namespace spat::data {
namespace {

using ::spat::data::testing::Npy;
using ::spat::data::testing::TempDir;
using ::spat::data::testing::WriteFile;

TEST(Npy, ReadsUint8Array) {
  std::string data;
  for (int i = 0; i < 2 * 3 * 2; ++i) data.push_back(static_cast<char>(i * 3));
  const std::string path = TempDir() + "/u8.npy";
  WriteFile(path, Npy("|u1", "(2, 3, 2)", data));
  absl::StatusOr<at::Tensor> t = ReadNpy(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->scalar_type(), at::kByte);
  EXPECT_EQ(t->sizes(), at::IntArrayRef({2, 3, 2}));
  EXPECT_EQ(t->index({1, 2, 1}).item<int64_t>(), 33);  // element 11 * 3
}

TEST(Npy, ReadsFloat32AndInt64AndScalarShapes) {
  const float f[3] = {0.5f, -1.25f, 3.0f};
  std::string fd(reinterpret_cast<const char*>(f), sizeof(f));
  absl::StatusOr<at::Tensor> t = ParseNpy(Npy("<f4", "(3,)", fd), "f.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(at::equal(*t, at::tensor({0.5f, -1.25f, 3.0f})));

  const int64_t l[1] = {-7};
  std::string ld(reinterpret_cast<const char*>(l), sizeof(l));
  absl::StatusOr<at::Tensor> s = ParseNpy(Npy("<i8", "()", ld), "s.npy");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->dim(), 0);
  EXPECT_EQ(s->item<int64_t>(), -7);
}

TEST(Npy, RejectsBadMagic) {
  absl::StatusOr<at::Tensor> t = ParseNpy("PK\x03\x04 not npy", "x.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("x.npy: bad magic"), std::string::npos);
}

TEST(Npy, RejectsTruncatedData) {
  absl::StatusOr<at::Tensor> t =
      ParseNpy(Npy("|u1", "(4, 4)", std::string(10, 'a')), "cut.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(t.status().message().find("truncated"), std::string::npos);
}

TEST(Npy, RejectsFortranOrderAndUnknownDtype) {
  EXPECT_FALSE(ParseNpy(Npy("|u1", "(2, 2)", "abcd", true), "f.npy").ok());
  absl::StatusOr<at::Tensor> t =
      ParseNpy(Npy("<c16", "(1,)", std::string(16, 'a')), "c.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("unsupported .npy dtype '<c16'"),
            std::string::npos);
}

TEST(Npy, RejectsTruncatedHeader) {
  std::string bytes = Npy("|u1", "(2,)", "ab");
  EXPECT_FALSE(ParseNpy(bytes.substr(0, 30), "h.npy").ok());
}

}  // namespace
}  // namespace spat::data
