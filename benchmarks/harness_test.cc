#include "benchmarks/harness.h"

#include <google/protobuf/text_format.h>

#include <cstdlib>
#include <sstream>

#include "benchmarks/presets.h"

#include "gtest/gtest.h"

namespace spat::benchmarks {
namespace {

TEST(Harness, PaperTablesAreTranscribedCompletely) {
  Harness h({});
  for (const auto& [id, rows, cols] :
       std::vector<std::tuple<std::string, int, int>>{{"table1", 13, 2}, {"table2", 4, 2},
                                                      {"table3", 3, 2}, {"table4", 5, 4},
                                                      {"table5", 5, 4}, {"table6", 7, 8},
                                                      {"table7", 7, 8}}) {
    absl::StatusOr<PaperTable> t = h.Paper(id);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->rows_size(), rows) << id;
    EXPECT_EQ(t->columns_size(), cols) << id;
    EXPECT_EQ(t->cells_size(), rows * cols) << id;
    for (const Cell& c : t->cells()) {
      EXPECT_GT(c.value(), 30.0) << id << " " << c.row();
      EXPECT_LT(c.value(), 100.0) << id << " " << c.row();
    }
  }
  // Spot checks against the paper's text.
  absl::StatusOr<PaperTable> t6 = h.Paper("table6");
  bool found = false;
  for (const Cell& c : t6->cells()) {
    if (c.row() == "SPAT" && c.column() == "AA") {
      EXPECT_DOUBLE_EQ(c.value(), 48.09);
      found = true;
    }
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(h.Paper("table9").ok());
}

TEST(Harness, MarkdownShowsOursBesideThePapersAndBothProtocols) {
  PaperTable paper;
  google::protobuf::TextFormat::ParseFromString(R"pb(
    id: "t" title: "T" protocol: "their protocol"
    rows: "a" columns: "Clean"
    cells { row: "a" column: "Clean" value: 84.26 }
  )pb", &paper);
  Table t(paper, Preset::kSmoke, "our protocol");
  t.Add("a", "Clean", 91.5);
  t.Add("b", "Clean", 12.0);  // a row the paper does not have
  const std::string md = t.Markdown();
  EXPECT_NE(md.find("| a | **91.50** (84.26) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| b | **12.00** (—) |"), std::string::npos) << md;
  EXPECT_NE(md.find("our protocol"), std::string::npos);
  EXPECT_NE(md.find("their protocol"), std::string::npos);
  EXPECT_NE(md.find("reduced protocol"), std::string::npos);
}

TEST(Harness, PresetNames) {
  EXPECT_EQ(*ParsePreset("smoke"), Preset::kSmoke);
  EXPECT_EQ(PresetName(*ParsePreset("paper")), "paper");
  EXPECT_FALSE(ParsePreset("fast").ok());
}

TEST(Harness, FinishedCellIsReusedWhateverTheSpellingOfOutDir) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  absl::StatusOr<TrainConfig> base = AblationBase(Preset::kSmoke);
  ASSERT_TRUE(base.ok()) << base.status();
  base->mutable_method()->set_name("natural");
  base->mutable_dataset()->set_train_subset(64);
  base->mutable_dataset()->set_test_subset(16);
  std::ostringstream log;
  HarnessOptions o;
  o.out_dir = std::string(tmp) + "/harness_reuse";
  o.threads = 1;
  o.log = &log;
  absl::StatusOr<CellResult> first = Harness(o).TrainCell("cell", *base);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->reused);
  // The same directory named differently (as `bazel run` and a shell do).
  o.out_dir = std::string(tmp) + "/./harness_reuse/";
  absl::StatusOr<CellResult> second = Harness(o).TrainCell("cell", *base);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->reused) << log.str();
  EXPECT_DOUBLE_EQ(second->clean, first->clean);
  // A changed hyper-parameter is a different cell: it trains again.
  base->mutable_optimizer()->set_lr(0.02);
  absl::StatusOr<CellResult> third = Harness(o).TrainCell("cell", *base);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_FALSE(third->reused);
}

}  // namespace
}  // namespace spat::benchmarks
