#include "benchmarks/claims.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace spat::benchmarks {
namespace {

constexpr char kWelch[] = "Welch's t-test, one-sided, alpha 0.05";

const ResultCell* Find(const TableResult& t, const std::string& row, const std::string& column) {
  for (const ResultCell& c : t.cells()) {
    if (c.row() == row && c.column() == column) return &c;
  }
  return nullptr;
}

// A cell's runs; a result written before seeds existed has only `ours`.
std::vector<double> Runs(const ResultCell& c) {
  if (c.runs_size() > 0) return {c.runs().begin(), c.runs().end()};
  return {c.ours()};
}

std::string P(double p) { return p < 1e-4 ? "p < 0.0001" : absl::StrFormat("p = %.4f", p); }

// `test` oriented so that p_greater is the claimed direction.
Claim Decided(std::string statement, std::string source, std::string test_name,
              const TestResult& test, std::string evidence) {
  Claim c;
  c.statement = std::move(statement);
  c.source = std::move(source);
  c.test = std::move(test_name);
  c.outcome = Decide(test);
  c.p = test.p_greater;
  c.evidence = std::move(evidence);
  if (!test.valid) absl::StrAppend(&c.evidence, "; too few runs to test (need n >= 2 per cell)");
  return c;
}

Claim Missing(std::string statement, std::string source, std::string test,
              const std::string& row, const std::string& column) {
  Claim c;
  c.statement = std::move(statement);
  c.source = std::move(source);
  c.test = std::move(test);
  c.evidence = absl::StrCat("cell '", row, "' / ", column, " is missing");
  return c;
}

// A claim on cells whose training did not converge is not judged: its
// outcome would be about the optimizer's progress, not the method. Nor is one
// on a cell left with fewer than kMinHealthyRuns runs once its collapsed runs
// are taken out.
std::optional<Claim> NotJudged(const std::string& statement, const std::string& source,
                               const std::string& test,
                               const std::vector<const ResultCell*>& cells) {
  std::vector<std::string> open;
  for (const ResultCell* c : cells) {
    if (!c->has_converged() || c->converged()) continue;
    open.push_back(
        c->lr_decays()
            ? absl::StrFormat("'%s' / %s (its learning rate decays within the run: a flat last "
                              "epoch does not show convergence)",
                              c->row(), c->column())
            : absl::StrFormat("'%s' / %s (last epoch moved clean %+.2f, PGD-20 %+.2f)",
                              c->row(), c->column(), c->last_epoch_change_clean(),
                              c->last_epoch_change_pgd()));
  }
  std::vector<std::string> thin;  // too few healthy runs once the collapsed are left out
  for (const ResultCell* c : cells) {
    if (c->collapsed_runs() == 0 || c->runs_size() >= kMinHealthyRuns) continue;
    thin.push_back(absl::StrFormat("'%s' / %s (%d healthy, %d collapsed)", c->row(), c->column(),
                                   c->runs_size(), c->collapsed_runs()));
  }
  std::vector<std::string> floor;  // rows under the table's floor (ResultCell.below_floor)
  for (const ResultCell* c : cells) {
    if (c->below_floor()) floor.push_back(absl::StrFormat("'%s'", c->row()));
  }
  if (open.empty() && thin.empty() && floor.empty()) return std::nullopt;
  Claim c;
  c.statement = statement;
  c.source = source;
  c.test = test;
  c.outcome = Outcome::kNotJudged;
  std::vector<std::string> why;
  if (!open.empty()) {
    why.push_back(absl::StrCat("cell", open.size() > 1 ? "s " : " ", absl::StrJoin(open, ", "),
                               open.size() > 1 ? " have" : " has", " not converged"));
  }
  if (!thin.empty()) {
    why.push_back(absl::StrCat("fewer than ", kMinHealthyRuns, " healthy runs in ",
                               absl::StrJoin(thin, ", "),
                               " after the collapsed runs and their replacements"));
  }
  if (!floor.empty()) {
    why.push_back(absl::StrCat(absl::StrJoin(floor, ", "),
                               " under the floor of clean or PGD-20 accuracy this table is "
                               "sized for"));
  }
  c.evidence = absl::StrCat("not judged: ", absl::StrJoin(why, "; "));
  return c;
}

// Finds the two cells a comparison reads (a, b); the claim it comes out as
// without a test if one is missing or has not converged.
std::optional<Claim> Untested(const TableResult& t, const std::string& statement,
                              const std::string& source, const std::string& test,
                              const std::string& row_a, const std::string& row_b,
                              const std::string& column, const ResultCell*& a,
                              const ResultCell*& b) {
  a = Find(t, row_a, column);
  b = Find(t, row_b, column);
  if (a == nullptr || b == nullptr) {
    return Missing(statement, source, test, a == nullptr ? row_a : row_b, column);
  }
  return NotJudged(statement, source, test, {a, b});
}

// mean(row_a) > mean(row_b) + margin in `column`.
Claim Greater(const TableResult& t, std::string statement, std::string source,
              const std::string& row_a, const std::string& row_b, const std::string& column,
              double margin = 0) {
  const ResultCell *a, *b;
  if (std::optional<Claim> u = Untested(t, statement, source, kWelch, row_a, row_b, column, a, b)) {
    return *u;
  }
  const TestResult test = WelchTest(Runs(*a), Runs(*b), margin);
  std::string evidence = absl::StrFormat("%s: %s %s vs %s %s", column, row_a, MeanSd(Runs(*a)),
                                         row_b, MeanSd(Runs(*b)));
  if (margin != 0) absl::StrAppend(&evidence, absl::StrFormat(", margin %+g", margin));
  if (test.valid) absl::StrAppend(&evidence, absl::StrFormat(", t = %.2f, df = %.1f", test.statistic, test.df));
  Claim c = Decided(std::move(statement), std::move(source),
                    margin == 0 ? kWelch : absl::StrCat(kWelch, ", against a margin"), test,
                    std::move(evidence));
  c.cells = {{"", row_a, column}, {"", row_b, column}};
  return c;
}

// |mean(row_a) - mean(row_b)| > margin in `column`, two-sided: holds when one
// of the one-sided Welch tests against +-margin is significant at alpha / 2;
// contradicted when the difference is significantly within +-margin (both
// one-sided tests of equivalence, TOST, at alpha).
Claim Differs(const TableResult& t, std::string statement, std::string source,
              const std::string& row_a, const std::string& row_b, const std::string& column,
              double margin) {
  const std::string name = absl::StrFormat(
      "Welch's t-test, two-sided against a margin of %g (beyond: either one-sided test at alpha "
      "0.025; within: both equivalence tests at alpha 0.05)", margin);
  const ResultCell *a, *b;
  if (std::optional<Claim> u = Untested(t, statement, source, name, row_a, row_b, column, a, b)) {
    return *u;
  }
  const TestResult up = WelchTest(Runs(*a), Runs(*b), margin);
  const TestResult down = WelchTest(Runs(*a), Runs(*b), -margin);
  TestResult test = WelchTest(Runs(*a), Runs(*b));
  test.p_greater = std::min(1.0, 2 * std::min(up.p_greater, down.p_less));  // beyond
  test.p_less = std::max(up.p_less, down.p_greater);                         // within
  std::string evidence = absl::StrFormat(
      "%s: %s %s vs %s %s, difference %+.2f", column, row_a, MeanSd(Runs(*a)), row_b,
      MeanSd(Runs(*b)), Summarize(Runs(*a)).mean - Summarize(Runs(*b)).mean);
  if (test.valid) {
    absl::StrAppend(&evidence, absl::StrFormat(", t = %.2f, df = %.1f; p (within +-%g) = %.4f",
                                               test.statistic, test.df, margin, test.p_less));
  }
  Claim c = Decided(std::move(statement), std::move(source), name, test, std::move(evidence));
  c.cells = {{"", row_a, column}, {"", row_b, column}};
  return c;
}

// A monotone trend of `column` over the rows "<param>=<value>".
Claim Trend(const TableResult& t, std::string statement, std::string source,
            const std::string& param, const std::string& column, bool increasing) {
  std::vector<double> x, y;
  std::vector<std::string> means;
  std::vector<const ResultCell*> cells;
  for (const std::string& row : t.rows()) {
    if (row.rfind(param + "=", 0) != 0) continue;
    const ResultCell* c = Find(t, row, column);
    if (c == nullptr) {
      return Missing(std::move(statement), std::move(source), "Spearman", row, column);
    }
    cells.push_back(c);
    const double value = std::strtod(row.c_str() + param.size() + 1, nullptr);
    for (double v : Runs(*c)) {
      x.push_back(value);
      y.push_back(v);
    }
    means.push_back(absl::StrFormat("%s %s", row, MeanSd(Runs(*c))));
  }
  if (std::optional<Claim> n = NotJudged(statement, source, "Spearman", cells)) return *n;
  TestResult test = SpearmanTest(x, y);
  if (!increasing) std::swap(test.p_greater, test.p_less);
  std::string evidence = absl::StrCat(column, ": ", absl::StrJoin(means, ", "));
  if (test.valid) {
    absl::StrAppend(&evidence, absl::StrFormat("; Spearman rho = %.2f over %d runs", test.statistic,
                                               static_cast<int>(x.size())));
  }
  Claim c = Decided(std::move(statement), std::move(source),
                    "Spearman's rank correlation of the parameter with every run, one-sided, "
                    "alpha 0.05",
                    test, std::move(evidence));
  for (const ResultCell* cell : cells) c.cells.push_back({"", cell->row(), column});
  return c;
}

// mean(row) > mean(b) for every baseline b: holds when every pair holds
// (p = the largest pairwise p), contradicted when any pair is contradicted.
Claim AboveAll(const TableResult& t, std::string statement, std::string source,
               const std::string& row, const std::vector<std::string>& baselines,
               const std::string& column) {
  const std::string test_name =
      "Welch's t-test against each baseline, one-sided, alpha 0.05; holds only if every "
      "pair holds";
  const ResultCell* a = Find(t, row, column);
  if (a == nullptr) return Missing(std::move(statement), std::move(source), test_name, row, column);
  Claim c;
  c.statement = std::move(statement);
  c.source = std::move(source);
  c.test = test_name;
  std::vector<const ResultCell*> cells = {a};
  for (const std::string& b : baselines) {
    const ResultCell* cb = Find(t, b, column);
    if (cb == nullptr) return Missing(c.statement, c.source, test_name, b, column);
    cells.push_back(cb);
  }
  if (std::optional<Claim> n = NotJudged(c.statement, c.source, test_name, cells)) return *n;
  std::vector<std::string> parts = {absl::StrFormat("%s: %s %s", column, row, MeanSd(Runs(*a)))};
  bool all_hold = true, any_contradicted = false, all_valid = true;
  double worst_p = 0;
  for (const std::string& b : baselines) {
    const ResultCell* cb = Find(t, b, column);
    if (cb == nullptr) return Missing(c.statement, c.source, test_name, b, column);
    const TestResult test = WelchTest(Runs(*a), Runs(*cb));
    const Outcome o = Decide(test);
    all_valid &= test.valid;
    all_hold &= o == Outcome::kHolds;
    any_contradicted |= o == Outcome::kContradicted;
    worst_p = std::max(worst_p, test.p_greater);
    parts.push_back(absl::StrFormat("%s %s (%s)", b, MeanSd(Runs(*cb)),
                                    test.valid ? P(test.p_greater) : "untested"));
  }
  c.outcome = any_contradicted ? Outcome::kContradicted
              : all_hold       ? Outcome::kHolds
                               : Outcome::kInconclusive;
  c.p = all_valid ? worst_p : 1;
  for (const ResultCell* cell : cells) c.cells.push_back({"", cell->row(), column});
  c.evidence = absl::StrJoin(parts, "; ");
  if (!all_valid) absl::StrAppend(&c.evidence, "; too few runs to test (need n >= 2 per cell)");
  return c;
}

std::vector<std::string> Baselines(const TableResult& t, const std::string& ours) {
  std::vector<std::string> out;
  for (const std::string& r : t.rows()) {
    if (r != ours) out.push_back(r);
  }
  return out;
}

Claim OneSampleAbove(std::string statement, std::string source, const std::vector<double>& v,
                     double threshold, const std::string& what) {
  const TestResult test = OneSampleTest(v, threshold);
  return Decided(std::move(statement), std::move(source),
                 "one-sample t-test against the threshold, one-sided, alpha 0.05", test,
                 absl::StrFormat("%s %s, threshold %.1f", what, MeanSd(v), threshold));
}

}  // namespace

std::string MeanSd(const std::vector<double>& runs) {
  const Summary s = Summarize(runs);
  if (s.n < 2) return absl::StrFormat("%.2f (n=%d)", s.mean, s.n);
  return absl::StrFormat("%.2f ± %.2f (n=%d)", s.mean, s.sd, s.n);
}

std::vector<Claim> Table1Claims(const TableResult& t) {
  const std::string sens = "Sensitivity of Hyper-parameters: ";
  const std::string s_quote = sens + "\"From Table 1a, a larger s leads to higher robustness but "
                                     "lower accuracy.\"";
  const std::string ab_quote = sens + "\"As shown in Table 1b and 1c, appropriately choosing "
                                      "alpha and beta can boost model robustness with little "
                                      "accuracy degradation.\" (we test the defaults, 0.2)";
  return {
      Trend(t, "a larger s gives higher robustness", s_quote, "s", "PGD-20", true),
      Trend(t, "a larger s gives lower clean accuracy", s_quote, "s", "Clean", false),
      Greater(t, "alpha = 0.2 is more robust than alpha = 0", ab_quote, "alpha=0.2", "alpha=0.0",
              "PGD-20"),
      Greater(t, "alpha = 0.2 costs less than 1 point of clean accuracy against alpha = 0",
              ab_quote, "alpha=0.2", "alpha=0.0", "Clean", -1.0),
      Greater(t, "beta = 0.2 is more robust than beta = 0", ab_quote, "beta=0.2", "beta=0.0",
              "PGD-20"),
      Greater(t, "beta = 0.2 costs less than 1 point of clean accuracy against beta = 0",
              ab_quote, "beta=0.2", "beta=0.0", "Clean", -1.0),
  };
}

std::vector<Claim> Table2Claims(const TableResult& t) {
  const std::string full = "L_nce^sp + lambda L_rob^sp";
  const std::string source =
      "Analysis of SP: \"removing the SP mechanism from either robustness loss or accuracy loss "
      "leads to substantial performance degradation\"";
  std::vector<Claim> out;
  for (const char* ablated :
       {"L_nce + lambda L_rob^sp", "L_nce^sp + lambda L_rob", "L_nce + lambda L_rob"}) {
    for (const char* column : {"Clean", "PGD-20"}) {
      out.push_back(Greater(t, absl::StrCat(full, " beats ", ablated, " in ", column), source,
                            full, ablated, column));
    }
  }
  out.push_back(Greater(
      t, "removing SP from L_rob costs more robustness than removing it from L_acc",
      "Analysis of SP: \"the introduced self-paced robustness term ... contributes to a larger "
      "margin of robustness improvement\"",
      "L_nce + lambda L_rob^sp", "L_nce^sp + lambda L_rob", "PGD-20"));
  return out;
}

std::vector<Claim> Table3Claims(const TableResult& t) {
  const std::string full = "L_nce^sp + lambda L_rob^sp";
  const std::string ce_sp = "L_ce^sp + lambda L_rob^sp";
  const std::string ce = "L_ce + lambda L_rob";
  std::vector<Claim> out;
  for (const char* column : {"Clean", "PGD-20"}) {
    out.push_back(Greater(t, absl::StrCat("NCE^sp beats CE^sp in ", column),
                          "Analysis of NCE in SPAT: \"The normalization regularization in NCE "
                          "boosts both model robustness and standard accuracy.\"",
                          full, ce_sp, column));
  }
  for (const char* column : {"Clean", "PGD-20"}) {
    out.push_back(Greater(t, absl::StrCat("CE^sp beats CE in ", column),
                          "Analysis of NCE in SPAT: \"incorporating the self-paced factors into "
                          "the CE loss also improves model performance\"",
                          ce_sp, ce, column));
  }
  return out;
}

std::vector<Claim> ChoicesClaims(const TableResult& t) {
  const std::string source =
      "not in the paper: its equations leave these choices open (docs/spat_parity.md)";
  std::vector<Claim> out;
  for (const std::string& row : t.rows()) {
    if (row == kSpatDefault || row == kTradesDefault || row == kSpatCombination) continue;
    const std::string base = row.rfind("TRADES", 0) == 0 ? kTradesDefault : kSpatDefault;
    out.push_back(Differs(t, absl::StrCat("'", row, "' changes PGD-20 by more than 1 point"),
                          source, row, base, "PGD-20", 1.0));
  }
  out.push_back(Greater(t, "the combination is more robust than SPAT's default (PGD-20)", source,
                        kSpatCombination, kSpatDefault, "PGD-20"));
  out.push_back(Greater(t, "the combination costs less than 1 point of clean accuracy", source,
                        kSpatCombination, kSpatDefault, "Clean", -1.0));
  return out;
}

std::vector<Claim> WhiteBoxClaims(const TableResult& t, bool cifar) {
  const std::string source =
      cifar ? "White-Box Robustness: \"SPAT achieves the highest robustness ... 6 out of 7 on "
              "CIFAR-10. The only exception is the l_inf C&W attack\" (C&W against MART is left "
              "out)"
            : "White-Box Robustness: \"SPAT achieves the highest robustness in all 4 attacks on "
              "MNIST\"";
  std::vector<Claim> out;
  for (const std::string& column : t.columns()) {
    // The paper reports no AutoAttack on MNIST (the long preset adds one run).
    if (column == "Clean" || (!cifar && column == "AA")) continue;
    std::vector<std::string> baselines = Baselines(t, "SPAT");
    if (cifar && column == "C&W") {
      baselines.erase(std::remove(baselines.begin(), baselines.end(), "MART"), baselines.end());
    }
    out.push_back(AboveAll(t, absl::StrCat("SPAT is more robust than every baseline under white-box ",
                                           column),
                           source, "SPAT", baselines, column));
  }
  return out;
}

std::vector<Claim> BlackBoxClaims(const TableResult& t, const TableResult& white, bool cifar) {
  const std::string source =
      cifar ? "Black-Box Robustness: \"On the CIFAR10 dataset ... SPAT again achieves the top "
              "performance.\""
            : "Table 5 (SPAT's entries are the paper's best in every attack column)";
  std::vector<Claim> out;
  for (const std::string& column : t.columns()) {
    if (column == "Clean") continue;
    out.push_back(AboveAll(t, absl::StrCat("SPAT is more robust than every baseline under black-box ",
                                           column),
                           source, "SPAT", Baselines(t, "SPAT"), column));
  }
  if (!cifar) {
    // Joins the two tables' FGSM cells under distinct row names.
    TableResult both;
    auto add = [&both](const ResultCell* c, const std::string& name) {
      if (c == nullptr) return;
      ResultCell* copy = both.add_cells();
      *copy = *c;
      copy->set_row(name);
    };
    for (const std::string& row : t.rows()) {
      add(Find(white, row, "FGSM"), row + " white-box");
      add(Find(t, row, "FGSM"), row + " black-box");
      out.push_back(Greater(
          both, absl::StrCat(row, ": black-box FGSM is stronger than white-box FGSM"),
          "Black-Box Robustness: \"white box FGSM attacks are weaker than their black box "
          "counterpart on all defenses\" (MNIST)",
          row + " white-box", row + " black-box", "FGSM"));
      out.back().cells = {{white.id(), row, "FGSM"}, {"", row, "FGSM"}};
    }
  }
  return out;
}

std::vector<Claim> Figure1Claims(const std::vector<double>& natural_pgd,
                                 const std::vector<double>& spat_pgd,
                                 const std::vector<double>& natural_mean_share_percent,
                                 int num_classes) {
  const double uniform = 100.0 / (num_classes - 1);
  const TestResult robust = WelchTest(spat_pgd, natural_pgd);
  return {
      Decided("SPAT is more robust to PGD-20 than natural training",
              "Figure 1 (over 40% of attacked dog images become cats on a natural model; 30.6% "
              "with SPAT)",
              kWelch, robust,
              absl::StrFormat("PGD-20 accuracy: SPAT %s, natural %s", MeanSd(spat_pgd),
                              MeanSd(natural_pgd))),
      OneSampleAbove("a naturally trained model's errors concentrate on one wrong class per "
                     "class (more than 3x a uniform spread)",
                     "Introduction and Figure 1: attacks send each class mostly to its hard "
                     "class",
                     natural_mean_share_percent, 3 * uniform,
                     "mean top-wrong-class share (%)"),
  };
}

std::vector<Claim> HcpClaims(const std::vector<double>& natural_share_percent,
                             const std::vector<double>& spat_share_percent, int num_classes) {
  const double chance = 100.0 / (num_classes - 1);
  std::vector<Claim> out;
  for (const auto& [model, share] :
       {std::pair<const char*, const std::vector<double>*>{"natural", &natural_share_percent},
        {"SPAT", &spat_share_percent}}) {
    out.push_back(OneSampleAbove(
        absl::StrCat("Lemma 1 (", model, "): successful untargeted attacks land on the hard "
                     "class j* more than 3x as often as chance"),
        "Lemma 1: an untargeted attack's most likely target is the class whose prototype is "
        "closest (the hard class)",
        *share, 3 * chance, "share landing on j* (%)"));
  }
  return out;
}

std::string ClaimNote(const Claim& c) {
  return absl::StrCat("claim ", OutcomeName(c.outcome),
                      (c.outcome == Outcome::kInconclusive && c.p >= 1) ||
                              c.outcome == Outcome::kNotJudged
                          ? ""
                          : absl::StrCat(" (", P(c.p), ")"),
                      ": ", c.statement, ". ", c.evidence, ". [", c.test, "; ", c.source, "]");
}

ClaimResult ToResult(const Claim& c) {
  ClaimResult r;
  r.set_statement(c.statement);
  r.set_source(c.source);
  r.set_test(c.test);
  r.set_outcome(OutcomeName(c.outcome));
  r.set_p(c.p);
  r.set_evidence(c.evidence);
  if (!c.half_outcome.empty()) {
    r.set_half_budget_outcome(c.half_outcome);
    r.set_half_budget_p(c.half_p);
    r.set_half_budget_evidence(c.half_evidence);
  }
  return r;
}

std::vector<Claim> JudgeAtBothBudgets(
    const std::vector<Claim>& full, const std::vector<Claim>& half,
    const std::map<std::string, std::pair<const TableResult*, const TableResult*>>& tables,
    int epochs, int half_epochs) {
  std::vector<Claim> out;
  for (size_t i = 0; i < full.size(); ++i) {
    Claim c = full[i];
    if (i >= half.size() || half[i].statement != c.statement) {
      c.outcome = Outcome::kNotJudged;
      c.evidence = absl::StrCat("not judged: no half-budget result for this claim; ", c.evidence);
      out.push_back(std::move(c));
      continue;
    }
    const Claim& h = half[i];
    c.half_outcome = OutcomeName(h.outcome);
    c.half_p = h.p;
    c.half_evidence = h.evidence;
    // Judged the same at both budgets; or not judged at the full budget for a
    // reason of its own (too few healthy runs, a row under the floor), which
    // the half budget cannot change.
    if (h.outcome == c.outcome || c.outcome == Outcome::kNotJudged) {
      out.push_back(std::move(c));
      continue;
    }
    // Which compared cells moved, and by how much (mean, half -> full).
    std::vector<std::string> moves;
    for (const ClaimCell& cell : c.cells) {
      auto t = tables.find(cell.table);
      if (t == tables.end() || t->second.first == nullptr || t->second.second == nullptr) continue;
      const ResultCell* a = Find(*t->second.second, cell.row, cell.column);
      const ResultCell* b = Find(*t->second.first, cell.row, cell.column);
      if (a == nullptr || b == nullptr) continue;
      moves.push_back(absl::StrFormat("%s%s / %s %.2f -> %.2f (%+.2f)",
                                      cell.table.empty() ? "" : cell.table + " ", cell.row,
                                      cell.column, a->ours(), b->ours(), b->ours() - a->ours()));
    }
    const bool was_judged = c.outcome != Outcome::kNotJudged;
    c.evidence = absl::StrCat(
        "not judged: the verdict changed with the budget (", half_epochs, " epochs: ",
        OutcomeName(h.outcome),
        h.outcome == Outcome::kNotJudged ? std::string() : absl::StrCat(", ", P(h.p)), "; ",
        epochs, " epochs: ", OutcomeName(c.outcome),
        was_judged ? absl::StrCat(", ", P(c.p)) : std::string(), ")",
        moves.empty() ? std::string()
                      : absl::StrCat("; the cells moved ", absl::StrJoin(moves, ", ")),
        ". At ", epochs, " epochs: ", c.evidence);
    c.outcome = Outcome::kNotJudged;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace spat::benchmarks
