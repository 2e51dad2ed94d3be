#include "benchmarks/table_render.h"

#include <google/protobuf/text_format.h>

#include <string>

#include "base/files.h"
#include "benchmarks/table.h"
#include "gtest/gtest.h"

namespace spat::benchmarks {
namespace {

PaperTable Paper(const std::string& text) {
  PaperTable paper;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &paper));
  return paper;
}

bool Has(const std::string& md, const std::string& part) {
  return md.find(part) != std::string::npos;
}

TEST(TableRender, ShowsOursBesideThePapersAndBothProtocols) {
  Table t(Paper(R"pb(id: "t" title: "T" protocol: "their protocol"
                     rows: "a" columns: "Clean"
                     cells { row: "a" column: "Clean" value: 84.26 })pb"),
          Preset::kSmoke, "our protocol");
  t.Add("a", "Clean", {91.5});
  t.Add("b", "Clean", {12.0});  // a row the paper does not have
  const std::string md = RenderMarkdown(t.result());
  EXPECT_TRUE(Has(md, "# T\n")) << md;
  EXPECT_TRUE(Has(md, "| a | **91.50** (84.26) |")) << md;
  EXPECT_TRUE(Has(md, "| b | **12.00** (—) |")) << md;
  EXPECT_TRUE(Has(md, "over n = 1 run ")) << md;
  EXPECT_TRUE(Has(md, "**Our protocol** (`smoke`): our protocol")) << md;
  EXPECT_TRUE(Has(md, "**Paper's protocol**: their protocol")) << md;
  EXPECT_TRUE(Has(md, "reduced protocol")) << md;
}

TEST(TableRender, CellsShowMeanSdAndNAndTheClaimsTheirVerdict) {
  Table t(Paper(R"pb(id: "t" title: "T" rows: "a" rows: "b" columns: "PGD-20"
                     cells { row: "a" column: "PGD-20" value: 59.56 })pb"),
          Preset::kCpu, "our protocol");
  t.Add("a", "PGD-20", {46.0, 51.1, 49.1});
  t.Add("b", "PGD-20", {30.0, 31.0});  // one run short: its n is shown
  Claim c;
  c.statement = "a beats b";
  c.source = "Section X";
  c.test = "Welch";
  c.outcome = Outcome::kHolds;
  c.p = 0.0123;
  c.evidence = "numbers";
  t.AddClaims({c});
  const std::string md = RenderMarkdown(t.result());
  EXPECT_TRUE(Has(md, "| a | **48.73 ± 2.57** (59.56) |")) << md;
  EXPECT_TRUE(Has(md, "| b | **30.50 ± 0.71 (n=2)** (—) |")) << md;
  EXPECT_TRUE(Has(md, "over n = 3 runs")) << md;
  EXPECT_TRUE(Has(md, "1 hold, 0 contradicted, 0 inconclusive, 0 not judged")) << md;
  EXPECT_TRUE(Has(md, "- **holds** (p = 0.0123): a beats b. numbers. *Welch; Section X*")) << md;
  // The JSON keeps every run.
  const std::string json = RenderJson(t.result());
  EXPECT_TRUE(Has(json, "51.1")) << json;
  EXPECT_TRUE(Has(json, "\"outcome\": \"holds\"") || Has(json, "\"outcome\":\"holds\"")) << json;
}

// The long preset's marks: the half-budget value beside each cell, the
// under-98%-clean mark, collapsed runs counted (left out of the mean), and a
// claim judged at both budgets.
TEST(TableRender, HalfBudgetUnderFloorAndCollapsedMarks) {
  Table t(Paper(R"pb(id: "t4" title: "T4" rows: "Madry" rows: "TRADES" columns: "Clean"
                     cells { row: "TRADES" column: "Clean" value: 99.10 })pb"),
          Preset::kLong, "our protocol");
  t.SetBudgets(4, 2);
  t.Add("Madry", "Clean", {99.30, 99.34, 99.32});
  t.AddHalfBudget("Madry", "Clean", {99.0, 99.1, 99.2});
  t.Add("TRADES", "Clean", {97.10, 97.30, 97.20});
  t.AddHalfBudget("TRADES", "Clean", {96.0, 96.2});
  TableResult r = t.result();
  r.mutable_cells(1)->set_collapsed_runs(1);
  r.mutable_cells(1)->set_half_budget_collapsed_runs(1);
  ClaimResult* c = r.add_claims();
  c->set_statement("Madry is cleaner");
  c->set_outcome("holds");
  c->set_p(0.001);
  c->set_evidence("e");
  c->set_test("Welch");
  c->set_source("S");
  c->set_half_budget_outcome("holds");
  c->set_half_budget_p(0.02);
  const std::string md = RenderMarkdown(r);
  EXPECT_TRUE(Has(md, "| Madry | **99.32 ± 0.02** (—) · 2 ep: 99.10 |")) << md;
  EXPECT_TRUE(Has(md, "| TRADES | **97.20 ± 0.10 (n=3, 1 of 4 collapsed)** (99.10) · 2 ep: "
                      "96.10 (1 collapsed) *under 98% clean* |"))
      << md;
  EXPECT_TRUE(Has(md, "\"2 ep\": the same cell trained for half the budget")) << md;
  EXPECT_TRUE(Has(md, "**Under 98% clean**: 1 row(s)")) << md;
  EXPECT_TRUE(Has(md, "**Collapsed runs**: runs of TRADES collapsed")) << md;
  EXPECT_TRUE(Has(md, "- **holds** (p = 0.0010): Madry is cleaner. e. Same verdict at 2 epochs "
                      "(p = 0.0200). *Welch; S*"))
      << md;
}

TEST(TableRender, WriteTableWritesMarkdownAndJson) {
  Table t(Paper(R"pb(id: "tw" title: "TW" rows: "a" columns: "Clean")pb"), Preset::kSmoke,
          "p");
  t.Add("a", "Clean", {50.0});
  const std::string dir = ::testing::TempDir() + "/table_render_test";
  ASSERT_TRUE(WriteTable(dir, t.result(), nullptr).ok());
  absl::StatusOr<std::string> md = ReadFile(dir + "/tw.md");
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(*md, RenderMarkdown(t.result()));
  EXPECT_TRUE(PathExists(dir + "/tw.json"));
}

}  // namespace
}  // namespace spat::benchmarks
