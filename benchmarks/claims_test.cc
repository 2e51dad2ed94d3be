#include "benchmarks/claims.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace spat::benchmarks {
namespace {

void Add(TableResult* t, const std::string& row, const std::string& column,
         const std::vector<double>& runs) {
  bool known = false;
  for (const std::string& r : t->rows()) known |= r == row;
  if (!known) t->add_rows(row);
  known = false;
  for (const std::string& c : t->columns()) known |= c == column;
  if (!known) t->add_columns(column);
  ResultCell* c = t->add_cells();
  c->set_row(row);
  c->set_column(column);
  c->set_ours(Summarize(runs).mean);
  for (double v : runs) c->add_runs(v);
}

const Claim& Find(const std::vector<Claim>& claims, const std::string& statement) {
  for (const Claim& c : claims) {
    if (c.statement == statement) return c;
  }
  ADD_FAILURE() << "no claim '" << statement << "'";
  static const Claim none;
  return none;
}

// Table 1 with the s sweep rising in PGD-20 and falling in clean accuracy,
// alpha helping, beta hurting robustness.
TableResult Table1() {
  TableResult t;
  const double s_values[] = {1, 3, 5, 8, 10};
  for (int i = 0; i < 5; ++i) {
    const std::string row = "s=" + std::to_string(static_cast<int>(s_values[i]));
    Add(&t, row, "Clean", {90.0 - i, 90.3 - i, 89.8 - i});
    Add(&t, row, "PGD-20", {20.0 + 5 * i, 21.0 + 5 * i, 19.5 + 5 * i});
  }
  Add(&t, "alpha=0.0", "Clean", {89.0, 89.2, 88.9});
  Add(&t, "alpha=0.0", "PGD-20", {35.0, 36.0, 34.5});
  Add(&t, "alpha=0.2", "Clean", {88.8, 88.9, 88.7});
  Add(&t, "alpha=0.2", "PGD-20", {40.0, 41.0, 39.5});
  Add(&t, "beta=0.0", "Clean", {88.0, 89.5, 87.0});
  Add(&t, "beta=0.0", "PGD-20", {45.0, 46.0, 44.5});
  Add(&t, "beta=0.2", "Clean", {88.8, 88.9, 88.7});
  Add(&t, "beta=0.2", "PGD-20", {40.0, 41.0, 39.5});
  return t;
}

TEST(Claims, Table1TrendsAndComparisonsComeOutAsTheNumbersSay) {
  const std::vector<Claim> c = Table1Claims(Table1());
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(Find(c, "a larger s gives higher robustness").outcome, Outcome::kHolds);
  EXPECT_EQ(Find(c, "a larger s gives lower clean accuracy").outcome, Outcome::kHolds);
  EXPECT_EQ(Find(c, "alpha = 0.2 is more robust than alpha = 0").outcome, Outcome::kHolds);
  // A 0.27-point drop with little spread is significantly under the 1-point margin.
  EXPECT_EQ(Find(c, "alpha = 0.2 costs less than 1 point of clean accuracy against alpha = 0")
                .outcome,
            Outcome::kHolds);
  // beta = 0 is significantly more robust: contradicted, not inconclusive.
  const Claim& beta = Find(c, "beta = 0.2 is more robust than beta = 0");
  EXPECT_EQ(beta.outcome, Outcome::kContradicted);
  EXPECT_NE(beta.evidence.find("beta=0.0 45.17 ± 0.76 (n=3)"), std::string::npos)
      << beta.evidence;
  // beta = 0's clean runs spread too widely to decide the margin.
  EXPECT_EQ(Find(c, "beta = 0.2 costs less than 1 point of clean accuracy against beta = 0")
                .outcome,
            Outcome::kInconclusive);
  for (const Claim& x : c) EXPECT_NE(x.source.find("Sensitivity of Hyper-parameters"), std::string::npos);
  EXPECT_EQ(ClaimNote(beta).rfind("claim contradicted (p = ", 0), 0u) << ClaimNote(beta);
}

TEST(Claims, OneRunPerCellIsInconclusiveAndMissingCellsAreNamed) {
  TableResult t;
  Add(&t, "alpha=0.0", "PGD-20", {35.0});
  Add(&t, "alpha=0.2", "PGD-20", {45.0});
  const std::vector<Claim> c = Table1Claims(t);
  const Claim& alpha = Find(c, "alpha = 0.2 is more robust than alpha = 0");
  EXPECT_EQ(alpha.outcome, Outcome::kInconclusive);
  EXPECT_NE(alpha.evidence.find("too few runs"), std::string::npos) << alpha.evidence;
  const Claim& beta = Find(c, "beta = 0.2 is more robust than beta = 0");
  EXPECT_EQ(beta.outcome, Outcome::kInconclusive);
  EXPECT_NE(beta.evidence.find("'beta=0.2' / PGD-20 is missing"), std::string::npos)
      << beta.evidence;
}

TEST(Claims, Tables2And3CompareEachAblationInBothColumns) {
  TableResult t2;
  Add(&t2, "L_nce^sp + lambda L_rob^sp", "Clean", {90, 91, 90.5});
  Add(&t2, "L_nce^sp + lambda L_rob^sp", "PGD-20", {50, 51, 50.5});
  for (const char* row : {"L_nce + lambda L_rob^sp", "L_nce^sp + lambda L_rob",
                          "L_nce + lambda L_rob"}) {
    Add(&t2, row, "Clean", {88, 89, 88.5});
    Add(&t2, row, "PGD-20", {48, 49, 48.5});
  }
  const std::vector<Claim> c2 = Table2Claims(t2);
  ASSERT_EQ(c2.size(), 7u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(c2[i].outcome, Outcome::kHolds) << c2[i].statement;
  // Equal ablations: which removal costs more is not decided.
  EXPECT_EQ(c2[6].outcome, Outcome::kInconclusive);

  TableResult t3;
  Add(&t3, "L_nce^sp + lambda L_rob^sp", "Clean", {90, 91, 90.5});
  Add(&t3, "L_nce^sp + lambda L_rob^sp", "PGD-20", {50, 51, 50.5});
  Add(&t3, "L_ce^sp + lambda L_rob^sp", "Clean", {92, 93, 92.5});  // CE^sp more accurate
  Add(&t3, "L_ce^sp + lambda L_rob^sp", "PGD-20", {45, 46, 45.5});
  Add(&t3, "L_ce + lambda L_rob", "Clean", {91, 92, 91.5});
  Add(&t3, "L_ce + lambda L_rob", "PGD-20", {44, 45, 44.5});
  const std::vector<Claim> c3 = Table3Claims(t3);
  EXPECT_EQ(Find(c3, "NCE^sp beats CE^sp in Clean").outcome, Outcome::kContradicted);
  EXPECT_EQ(Find(c3, "NCE^sp beats CE^sp in PGD-20").outcome, Outcome::kHolds);
  EXPECT_EQ(Find(c3, "CE^sp beats CE in Clean").outcome, Outcome::kHolds);
}

TEST(Claims, SpatAboveEveryBaselineNeedsEveryPair) {
  TableResult white;
  Add(&white, "Madry", "Clean", {99, 99, 99});
  Add(&white, "Madry", "PGD-20", {40, 41, 40.5});
  Add(&white, "MART", "Clean", {99, 99, 99});
  Add(&white, "MART", "PGD-20", {44, 46, 45});
  Add(&white, "SPAT", "Clean", {99, 99, 99});
  Add(&white, "SPAT", "PGD-20", {45, 46, 45.5});
  std::vector<Claim> c = WhiteBoxClaims(white, false);
  ASSERT_EQ(c.size(), 1u);  // no claim on clean accuracy
  // Above Madry for sure, not decidably above MART: inconclusive, p of MART.
  EXPECT_EQ(c[0].outcome, Outcome::kInconclusive);
  EXPECT_GT(c[0].p, 0.05);
  EXPECT_NE(c[0].evidence.find("MART 45.00 ± 1.00 (n=3)"), std::string::npos) << c[0].evidence;
  // Below Madry significantly: contradicted.
  Add(&white, "Madry", "FGSM", {60, 61, 60.5});
  Add(&white, "MART", "FGSM", {50, 51, 50.5});
  Add(&white, "SPAT", "FGSM", {55, 56, 55.5});
  c = WhiteBoxClaims(white, false);
  EXPECT_EQ(Find(c, "SPAT is more robust than every baseline under white-box FGSM").outcome,
            Outcome::kContradicted);
  // CIFAR-10's C&W leaves MART out, as the paper does.
  Add(&white, "Madry", "C&W", {40, 41, 40.5});
  Add(&white, "MART", "C&W", {60, 61, 60.5});
  Add(&white, "SPAT", "C&W", {50, 51, 50.5});
  c = WhiteBoxClaims(white, true);
  EXPECT_EQ(Find(c, "SPAT is more robust than every baseline under white-box C&W").outcome,
            Outcome::kHolds);
  c = WhiteBoxClaims(white, false);
  EXPECT_EQ(Find(c, "SPAT is more robust than every baseline under white-box C&W").outcome,
            Outcome::kContradicted);
}

TEST(Claims, MnistBlackBoxFgsmIsStrongerThanWhiteBox) {
  TableResult white, black;
  for (const char* row : {"Madry", "SPAT"}) {
    Add(&white, row, "FGSM", {70, 71, 70.5});
    Add(&black, row, "FGSM", {60, 61, 60.5});
  }
  const std::vector<Claim> c = BlackBoxClaims(black, white, false);
  EXPECT_EQ(Find(c, "Madry: black-box FGSM is stronger than white-box FGSM").outcome,
            Outcome::kHolds);
  EXPECT_EQ(Find(c, "SPAT: black-box FGSM is stronger than white-box FGSM").outcome,
            Outcome::kHolds);
  EXPECT_EQ(BlackBoxClaims(black, white, true).size(), 1u);  // CIFAR: SPAT above all only
}

// Table 8: each choice against its method's default, two-sided with a
// 1-point margin; the combination against SPAT's default.
TEST(Claims, EachChoiceIsTestedTwoSidedAgainstItsDefault) {
  TableResult t;
  Add(&t, kSpatDefault, "Clean", {95.0, 95.2, 94.9});
  Add(&t, kSpatDefault, "PGD-20", {80.0, 80.5, 79.6});
  Add(&t, "SPAT, gains detached", "PGD-20", {86.0, 86.4, 85.7});      // +6: beyond
  Add(&t, "SPAT, start unclamped", "PGD-20", {80.1, 80.3, 79.9});     // +0.1: within
  Add(&t, "SPAT, init torch_default", "PGD-20", {72.0, 70.5, 71.2});  // -8.8: beyond, down
  Add(&t, "SPAT, prototypes N(0, 0.01^2)", "PGD-20", {78.0, 83.0, 80.0});  // noisy
  Add(&t, kSpatCombination, "Clean", {94.8, 94.9, 94.6});
  Add(&t, kSpatCombination, "PGD-20", {88.0, 88.5, 87.9});
  Add(&t, kTradesDefault, "PGD-20", {75.0, 75.5, 74.8});
  Add(&t, "TRADES, init torch_default", "PGD-20", {70.0, 70.2, 69.5});
  const std::vector<Claim> claims = ChoicesClaims(t);
  EXPECT_EQ(claims.size(), 7u);  // 5 choices + the combination's two
  EXPECT_EQ(Find(claims, "'SPAT, gains detached' changes PGD-20 by more than 1 point").outcome,
            Outcome::kHolds);
  EXPECT_EQ(Find(claims, "'SPAT, init torch_default' changes PGD-20 by more than 1 point").outcome,
            Outcome::kHolds);
  const Claim& within = Find(claims, "'SPAT, start unclamped' changes PGD-20 by more than 1 point");
  EXPECT_EQ(within.outcome, Outcome::kContradicted);
  EXPECT_NE(within.evidence.find("difference +0.07"), std::string::npos) << within.evidence;
  EXPECT_EQ(
      Find(claims, "'SPAT, prototypes N(0, 0.01^2)' changes PGD-20 by more than 1 point").outcome,
      Outcome::kInconclusive);
  const Claim& trades =
      Find(claims, "'TRADES, init torch_default' changes PGD-20 by more than 1 point");
  EXPECT_EQ(trades.outcome, Outcome::kHolds);
  EXPECT_NE(trades.evidence.find(kTradesDefault), std::string::npos) << trades.evidence;
  EXPECT_EQ(Find(claims, "the combination is more robust than SPAT's default (PGD-20)").outcome,
            Outcome::kHolds);
  EXPECT_EQ(Find(claims, "the combination costs less than 1 point of clean accuracy").outcome,
            Outcome::kHolds);
}

TEST(Claims, Figure1AndLemma1) {
  // The cpu preset's Figure 1 and hcp_analysis (Fashion-MNIST) at the scale
  // measured once: PGD-20 natural ~36%, SPAT ~46%; top-wrong-class share ~54%;
  // attacks landing on j* 59% / 77%.
  std::vector<Claim> f = Figure1Claims({35.9, 36.5, 35.1}, {46.1, 45.0, 47.2},
                                       {54.3, 52.0, 56.1}, 10);
  for (const Claim& c : f) EXPECT_EQ(c.outcome, Outcome::kHolds) << ClaimNote(c);
  for (const Claim& c : HcpClaims({58.9, 57.0, 60.2}, {76.9, 74.0, 78.1}, 10)) {
    EXPECT_EQ(c.outcome, Outcome::kHolds) << ClaimNote(c);
  }
  // At chance (1/9 = 11.1%) the share claims are contradicted.
  for (const Claim& c : HcpClaims({11.0, 10.5, 11.5}, {10.0, 11.0, 10.5}, 10)) {
    EXPECT_EQ(c.outcome, Outcome::kContradicted) << ClaimNote(c);
  }
  // One run: nothing is decided.
  for (const Claim& c : Figure1Claims({35.9}, {46.1}, {54.3}, 10)) {
    EXPECT_EQ(c.outcome, Outcome::kInconclusive) << ClaimNote(c);
  }
}

TEST(Claims, AtTwoBudgetsAClaimIsJudgedOnlyWhereItsVerdictStays) {
  const TableResult full = Table1();
  // Half the budget: alpha's gain is gone (alpha=0.2 now equals alpha=0.0),
  // everything else as at the full budget.
  TableResult half = Table1();
  for (ResultCell& c : *half.mutable_cells()) {
    if (c.row() == "alpha=0.2" && c.column() == "PGD-20") {
      c.clear_runs();
      for (double v : {35.0, 36.0, 34.5}) c.add_runs(v);
      c.set_ours(35.1666);
    }
  }
  const std::vector<Claim> judged = JudgeAtBothBudgets(
      Table1Claims(full), Table1Claims(half), {{"", {&full, &half}}}, 16, 8);
  ASSERT_EQ(judged.size(), 6u);
  const Claim& trend = Find(judged, "a larger s gives higher robustness");
  EXPECT_EQ(trend.outcome, Outcome::kHolds);
  EXPECT_EQ(trend.half_outcome, "holds");
  EXPECT_LT(trend.half_p, 0.05);
  const Claim& alpha = Find(judged, "alpha = 0.2 is more robust than alpha = 0");
  EXPECT_EQ(alpha.outcome, Outcome::kNotJudged);
  EXPECT_EQ(alpha.half_outcome, "inconclusive");
  // It names the cell that moved and by how much, and both verdicts.
  EXPECT_NE(alpha.evidence.find("alpha=0.2 / PGD-20 35.17 -> 40.17 (+5.00)"), std::string::npos)
      << alpha.evidence;
  EXPECT_NE(alpha.evidence.find("8 epochs: inconclusive"), std::string::npos) << alpha.evidence;
  EXPECT_NE(alpha.evidence.find("16 epochs: holds"), std::string::npos) << alpha.evidence;
  const ClaimResult stored = ToResult(alpha);
  EXPECT_EQ(stored.outcome(), "not judged");
  EXPECT_EQ(stored.half_budget_outcome(), "inconclusive");
  // A claim missing at half the budget is not judged either.
  const std::vector<Claim> alone = JudgeAtBothBudgets(Table1Claims(full), {}, {}, 16, 8);
  for (const Claim& c : alone) EXPECT_EQ(c.outcome, Outcome::kNotJudged) << c.statement;
}

}  // namespace
}  // namespace spat::benchmarks
