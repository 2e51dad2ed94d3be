#include "models/internal/unpickler.h"

#include <ATen/ATen.h>

#include <string>

#include "gtest/gtest.h"

namespace spat::models::internal {
namespace {

using Kind = PyValue::Kind;

absl::StatusOr<at::Tensor> NoStorage(const PyValue&) {
  return absl::InvalidArgumentError("no storages here");
}

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

absl::StatusOr<PyRef> UnpickleBytes(const std::string& bytes) {
  return Unpickle(bytes, NoStorage, "t.pkl");
}

TEST(Unpickler, DictOfScalarsProtocol2) {
  // pickle.dumps({'a': 1, 'b': [2.5, True], 'c': (None, 'x')}, protocol=2)
  const std::string p = FromHex(
      "80027d71002858010000006171014b0158010000006271025d7103284740040000000000"
      "00886558010000006371044e5801000000787105867106752e");
  absl::StatusOr<PyRef> v = UnpickleBytes(p);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ((*v)->kind, Kind::kDict);
  ASSERT_EQ((*v)->dict.size(), 3u);
  EXPECT_EQ((*v)->dict[0].first->s, "a");
  EXPECT_EQ((*v)->dict[0].second->i, 1);
  const PyValue& list = *(*v)->dict[1].second;
  ASSERT_EQ(list.kind, Kind::kList);
  ASSERT_EQ(list.items.size(), 2u);
  EXPECT_DOUBLE_EQ(list.items[0]->f, 2.5);
  EXPECT_TRUE(list.items[1]->b);
  const PyValue& tup = *(*v)->dict[2].second;
  ASSERT_EQ(tup.kind, Kind::kTuple);
  EXPECT_EQ(tup.items[0]->kind, Kind::kNone);
  EXPECT_EQ(tup.items[1]->s, "x");
}

TEST(Unpickler, NegativeAndLongInts) {
  // pickle.dumps([-1, 300, 70000, 2**40, -2**40], protocol=2)
  const std::string p = FromHex(
      "80025d7100284affffffff4d2c014a701101008a060000000000018a0600000000"
      "00ff652e");
  absl::StatusOr<PyRef> v = UnpickleBytes(p);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ((*v)->items.size(), 5u);
  EXPECT_EQ((*v)->items[0]->i, -1);
  EXPECT_EQ((*v)->items[1]->i, 300);
  EXPECT_EQ((*v)->items[2]->i, 70000);
  EXPECT_EQ((*v)->items[3]->i, int64_t{1} << 40);
  EXPECT_EQ((*v)->items[4]->i, -(int64_t{1} << 40));
}

TEST(Unpickler, RejectsUnknownGlobalsInsteadOfExecutingThem) {
  // GLOBAL os.system, ('ls',), REDUCE
  const std::string p =
      FromHex("8002636f730a73797374656d0a58020000006c7385522e");
  absl::StatusOr<PyRef> v = UnpickleBytes(p);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("unsupported global 'os.system'"),
            std::string::npos)
      << v.status();
}

TEST(Unpickler, MalformedStreamsAreErrors) {
  for (const std::string& p :
       {std::string(""), std::string("\x80\x02", 2), std::string("."),
        std::string("t."), std::string("u."), std::string("h\x05."),
        std::string("\x80\x02X\xff\xff\xff\x7f", 7), std::string("\xfe."),
        std::string("K\x01K\x02s."), std::string("Q."),
        std::string("c\nno newline")}) {
    EXPECT_FALSE(UnpickleBytes(p).ok()) << "accepted: " << p;
  }
}

TEST(Unpickler, StorageDtypes) {
  EXPECT_EQ(*StorageDtype("torch.FloatStorage"), at::kFloat);
  EXPECT_EQ(*StorageDtype("torch.LongStorage"), at::kLong);
  EXPECT_FALSE(StorageDtype("torch.ComplexFloatStorage").ok());
}

}  // namespace
}  // namespace spat::models::internal
