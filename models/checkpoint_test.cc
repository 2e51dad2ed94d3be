#include "models/checkpoint.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"
#include "models/registry.h"
#include "models/small_cnn.h"

namespace spat::models {
namespace {

std::string TempPath(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d != nullptr ? d : "/tmp") + "/" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)),
                     std::istreambuf_iterator<char>());
}

void Perturb(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& [k, t] : GetStateDict(m)) {
    if (t.is_floating_point()) t.add_(torch::randn_like(t));
    else t.add_(7);
  }
}

TEST(Checkpoint, RoundTripsEveryModel) {
  for (const std::string& name : KnownModels()) {
    const bool cifar = name != "small_cnn" && name != "lenet5";
    ModelSpec spec{name, 10, cifar ? 3 : 1, cifar ? 32 : 28, {HeadType::kNce, 6.0}};
    std::shared_ptr<Classifier> a = *CreateModel(spec);
    std::shared_ptr<Classifier> b = *CreateModel(spec);
    Perturb(*a);  // differ from b, buffers included
    const std::string path = TempPath(name + ".pt");
    ASSERT_TRUE(SaveCheckpoint(*a, path).ok()) << name;
    absl::Status st = LoadCheckpoint(path, *b);
    ASSERT_TRUE(st.ok()) << name << ": " << st;
    StateDict sa = GetStateDict(*a), sb = GetStateDict(*b);
    ASSERT_EQ(sa.size(), sb.size());
    for (size_t i = 0; i < sa.size(); ++i) {
      EXPECT_EQ(sa[i].first, sb[i].first);
      EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << name << " " << sa[i].first;
    }
    std::remove(path.c_str());
  }
}

TEST(Checkpoint, StateDictOrderIsPyTorchOrder) {
  SmallCNN net(SmallCnnOptions{});
  StateDict sd = GetStateDict(*net);
  ASSERT_EQ(sd.size(), 14u);
  EXPECT_EQ(sd[0].first, "feature_extractor.conv1.weight");
  EXPECT_EQ(sd[1].first, "feature_extractor.conv1.bias");
  EXPECT_EQ(sd[13].first, "classifier.fc3.bias");
}

TEST(Checkpoint, LoadsPlainOrderedDictWrittenByTorchSave) {
  absl::StatusOr<StateDict> sd = LoadStateDict("models/testdata/small_cnn.pt");
  ASSERT_TRUE(sd.ok()) << sd.status();
  ASSERT_EQ(sd->size(), 14u);
  EXPECT_EQ((*sd)[8].first, "classifier.fc1.weight");
  EXPECT_EQ((*sd)[8].second.sizes(), at::IntArrayRef({200, 1024}));
}

TEST(Checkpoint, Int64BuffersSurvive) {
  absl::StatusOr<StateDict> sd = LoadStateDict("models/testdata/resnet18_w8.pt");
  ASSERT_TRUE(sd.ok()) << sd.status();
  bool found = false;
  for (const auto& [k, t] : *sd) {
    if (k == "bn1.num_batches_tracked") {
      found = true;
      EXPECT_EQ(t.scalar_type(), at::kLong);
      EXPECT_EQ(t.dim(), 0);
      EXPECT_GT(t.item<int64_t>(), 0);
    }
  }
  EXPECT_TRUE(found);
}

TEST(Checkpoint, MissingUnexpectedAndMismatchedKeysAreNamed) {
  SmallCNN net(SmallCnnOptions{});
  StateDict sd = GetStateDict(*net);
  StateDict broken(sd.begin() + 1, sd.end());     // drop conv1.weight
  broken.emplace_back("extra.weight", torch::zeros({1}));
  broken[0].second = torch::zeros({5});           // conv1.bias: 32 -> 5
  SmallCNN other(SmallCnnOptions{});
  absl::Status st = ApplyStateDict(broken, *other, {}, "ckpt.pt");
  ASSERT_FALSE(st.ok());
  const std::string msg(st.message());
  EXPECT_NE(msg.find("ckpt.pt"), std::string::npos);
  EXPECT_NE(msg.find("missing keys: feature_extractor.conv1.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unexpected keys: extra.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shape mismatch: feature_extractor.conv1.bias"), std::string::npos) << msg;
  // Loading into a linear-head model from an NCE checkpoint fails too.
  SmallCnnOptions nce;
  nce.head = {HeadType::kNce, 5.0};
  SmallCNN nce_net(nce);
  EXPECT_FALSE(ApplyStateDict(GetStateDict(*nce_net), *other, {}, "nce.pt").ok());
}

TEST(Checkpoint, CorruptFilesAreErrorsNamingTheFile) {
  const std::string good = ReadAll("models/testdata/lenet5_wrapped.pt");
  ASSERT_GT(good.size(), 1000u);
  struct Bad {
    std::string bytes;
    std::string expect;
  };
  const std::vector<Bad> cases = {
      {"", "no zip signature"},
      {"hello world", "no zip signature"},
      {std::string("\x80\x02\x8a\x0a", 4), "legacy"},
      {good.substr(0, good.size() / 2), "corrupt"},
      {good.substr(0, 100), "corrupt"},
  };
  for (const Bad& b : cases) {
    const std::string path = TempPath("bad.pt");
    std::ofstream(path, std::ios::binary) << b.bytes;
    absl::StatusOr<StateDict> sd = LoadStateDict(path);
    ASSERT_FALSE(sd.ok());
    EXPECT_NE(sd.status().message().find(path), std::string::npos) << sd.status();
    EXPECT_NE(sd.status().message().find(b.expect), std::string::npos) << sd.status();
  }
  EXPECT_EQ(LoadStateDict(TempPath("absent.pt")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Checkpoint, FlippedBytesNeverCrash) {
  // Every single-byte corruption of a small checkpoint either loads (the byte
  // was in tensor data) or fails with a Status; none may throw or crash.
  const std::string good = ReadAll("models/testdata/lenet5_wrapped_io.pt");
  int errors = 0;
  for (size_t i = 0; i < good.size(); i += 37) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    absl::StatusOr<StateDict> sd = ParseStateDict(bad, "flipped.pt");
    errors += !sd.ok();
  }
  EXPECT_GT(errors, 0);
}

TEST(Checkpoint, FailedSaveLeavesNoTemporaryAndReportsThePath) {
  SmallCNN net(SmallCnnOptions{});
  const std::string path = TempPath("no/such/dir/ckpt.pt");
  absl::Status st = SaveCheckpoint(*net, path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no/such/dir/ckpt.pt"), std::string::npos) << st;
}

TEST(Checkpoint, OverwriteIsAtomicReplace) {
  SmallCNN a(SmallCnnOptions{}), b(SmallCnnOptions{});
  Perturb(*b);
  const std::string path = TempPath("replace.pt");
  ASSERT_TRUE(SaveCheckpoint(*a, path).ok());
  ASSERT_TRUE(SaveCheckpoint(*b, path).ok());
  SmallCNN c(SmallCnnOptions{});
  ASSERT_TRUE(LoadCheckpoint(path, *c).ok());
  EXPECT_TRUE(torch::equal(GetStateDict(*c)[0].second, GetStateDict(*b)[0].second));
  std::ifstream tmp(path + ".tmp." + std::to_string(getpid()));
  EXPECT_FALSE(tmp.good());
}

}  // namespace
}  // namespace spat::models
