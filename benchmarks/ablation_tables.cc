#include "benchmarks/ablation_tables.h"

#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "benchmarks/claims.h"
#include "benchmarks/presets.h"

namespace spat::benchmarks {
namespace {

struct Variant {
  std::string row;
  double s = 5, alpha = 0.2, beta = 0.2;
  bool sp_acc = true, sp_rob = true, use_nce = true;
};

using ClaimsFn = std::function<std::vector<Claim>(const TableResult&)>;

// Under the long preset a cell's numbers are its final attacks on the 10,000
// test images (CellEvals); elsewhere the last per-epoch check.
std::vector<double> Values(const std::vector<CellResult>& runs, bool from_evals,
                           const std::string& attack) {
  if (!from_evals) return attack == "clean" ? Clean(runs) : Pgd(runs);
  return Evals(runs, attack);
}

// Trains every variant (a row: clean and PGD-20) and tests `claims` on them.
// Under the long preset, the cells the claims compare are also trained at
// half the budget, and a claim is judged only where both budgets agree.
absl::StatusOr<Table> RunVariants(const Harness& h, const std::string& id,
                                  const std::vector<Variant>& variants, const ClaimsFn& claims,
                                  const std::string& note = "") {
  if (h.options().preset == Preset::kEps03) {
    return absl::InvalidArgumentError(absl::StrCat(
        id, ": --preset=eps03 covers Tables 4-5 (table4_5_mnist); the ablation tables run "
            "under --preset=long (MNIST at eps 0.1) or paper"));
  }
  SPAT_ASSIGN_OR_RETURN(PaperTable paper, h.Paper(id));
  SPAT_ASSIGN_OR_RETURN(TrainConfig base, AblationBase(h.options().preset));
  const bool long_preset = h.options().preset == Preset::kLong;
  std::string protocol = DescribeProtocol(base, /*convergence_note=*/!long_preset);
  if (long_preset) {
    absl::StrAppend(&protocol, absl::StrFormat(
        "; table numbers: clean and PGD-20 (CE, random start, step eps/10) on all %d test "
        "images after the last epoch; the per-epoch check above draws the learning curves; %s",
        kLongTestImages, kLongConvergenceNote));
  }
  Table table(paper, h.options().preset, protocol);
  if (!note.empty()) table.Note(note);
  const TrainConfig defaults = SpatVariant(base, 5, 0.2, 0.2);
  // A cell's final attacks (long preset): Table 4-5's on SPAT's defaults,
  // which those tables share, AutoAttack on its base-seed run.
  auto evals_for = [&](const TrainConfig& c, bool half) -> std::function<CellEvals(int)> {
    if (!long_preset) return nullptr;
    const bool shared = SpatVariantCell(c) == SpatVariantCell(defaults);
    return [c, shared, half](int k) { return LongPresetEvals(c, shared, shared && !half && k == 0); };
  };
  std::vector<TrainConfig> configs;
  for (size_t i = 0; i < variants.size(); ++i) {
    const Variant& v = variants[i];
    const TrainConfig c =
        SpatVariant(base, v.s, v.alpha, v.beta, v.sp_acc, v.sp_rob, v.use_nce);
    configs.push_back(c);
    if (h.options().log) {
      *h.options().log << absl::StrFormat("\n== %s: cell %d/%d, %s\n", id, i + 1,
                                          variants.size(), v.row);
    }
    SPAT_ASSIGN_OR_RETURN(std::vector<CellResult> runs,
                          h.TrainCells(SpatVariantCell(c), c, evals_for(c, false)));
    table.Add(v.row, "Clean", Values(runs, long_preset, "clean"), Seconds(runs), &runs);
    table.Add(v.row, "PGD-20", Values(runs, long_preset, "pgd20"), Seconds(runs), &runs);
  }
  const std::vector<Claim> full = claims(table.result());
  if (!long_preset) {
    table.AddClaims(full);
    return table;
  }
  // The verdict check: the compared cells again, at half the budget.
  std::set<std::string> compared;
  for (const Claim& c : full) {
    for (const ClaimCell& cell : c.cells) compared.insert(cell.row);
  }
  const TrainConfig half_base = HalfBudget(base);
  Table half(paper, h.options().preset, DescribeProtocol(half_base));
  for (size_t i = 0; i < variants.size(); ++i) {
    if (compared.count(variants[i].row) == 0) continue;
    const TrainConfig c = HalfBudget(configs[i]);
    if (h.options().log) {
      *h.options().log << absl::StrFormat("\n== %s at half the budget (%d epochs): %s\n", id,
                                          c.optimizer().epochs(), variants[i].row);
    }
    SPAT_ASSIGN_OR_RETURN(std::vector<CellResult> runs,
                          h.TrainCells(SpatVariantCell(c) + "_half", c, evals_for(c, true)));
    for (const auto& [column, attack] : {std::pair<const char*, const char*>{"Clean", "clean"},
                                         {"PGD-20", "pgd20"}}) {
      const std::vector<double> v = Values(runs, true, attack);
      half.Add(variants[i].row, column, v, Seconds(runs), &runs);
      table.AddHalfBudget(variants[i].row, column, v, CollapsedRuns(runs));
    }
  }
  const int epochs = base.optimizer().epochs(), half_epochs = half_base.optimizer().epochs();
  table.SetBudgets(epochs, half_epochs);
  table.AddClaims(JudgeAtBothBudgets(full, claims(half.result()),
                                     {{"", {&table.result(), &half.result()}}}, epochs,
                                     half_epochs));
  return table;
}

}  // namespace

absl::StatusOr<Table> RunTable1(const Harness& h) {
  std::vector<Variant> v;
  for (double s : {1, 3, 5, 8, 10}) v.push_back({absl::StrCat("s=", s), s});
  for (double a : {0.0, 0.2, 0.4, 0.6}) {
    v.push_back({absl::StrFormat("alpha=%.1f", a), 5, a, 0.2});
  }
  for (double b : {0.0, 0.2, 0.4, 0.6}) {
    v.push_back({absl::StrFormat("beta=%.1f", b), 5, 0.2, b});
  }
  return RunVariants(h, "table1", v, Table1Claims,
                     "Rows s=5, alpha=0.2 and beta=0.2 are the same configuration (the "
                     "defaults), trained once.");
}

absl::StatusOr<Table> RunTable2(const Harness& h) {
  return RunVariants(h, "table2",
                     {{"L_nce^sp + lambda L_rob^sp"},
                      {"L_nce + lambda L_rob^sp", 5, 0.2, 0.2, false, true},
                      {"L_nce^sp + lambda L_rob", 5, 0.2, 0.2, true, false},
                      {"L_nce + lambda L_rob", 5, 0.2, 0.2, false, false}},
                     Table2Claims);
}

absl::StatusOr<Table> RunTable3(const Harness& h) {
  return RunVariants(h, "table3",
                     {{"L_nce^sp + lambda L_rob^sp"},
                      {"L_ce^sp + lambda L_rob^sp", 5, 0.2, 0.2, true, true, false},
                      {"L_ce + lambda L_rob", 5, 0.2, 0.2, false, false, false}},
                     Table3Claims);
}

absl::Status PlotTable1(const Harness& h, const Table& t) {
  std::map<std::pair<std::string, std::string>, const ResultCell*> cells;
  for (const ResultCell& c : t.result().cells()) cells[{c.row(), c.column()}] = &c;
  std::map<std::string, std::string> data;
  for (const char* param : {"s", "alpha", "beta"}) {
    std::string rows =
        "# value ours_clean ours_pgd20 paper_clean paper_pgd20 sd_clean sd_pgd20 (sd over the "
        "seeds)\n";
    for (const std::string& row : t.result().rows()) {
      if (row.rfind(std::string(param) + "=", 0) != 0) continue;
      const ResultCell* c = cells[{row, "Clean"}];
      const ResultCell* p = cells[{row, "PGD-20"}];
      if (c == nullptr || p == nullptr) continue;
      absl::StrAppend(&rows, row.substr(row.find('=') + 1), " ", c->ours(), " ", p->ours(), " ",
                      c->has_paper() ? absl::StrCat(c->paper()) : "NaN", " ",
                      p->has_paper() ? absl::StrCat(p->paper()) : "NaN", " ", c->sd(), " ",
                      p->sd(), "\n");
    }
    data[absl::StrCat(param, ".dat")] = rows;
  }
  const std::string script = absl::StrCat(
      "set terminal pngcairo size 1500,450 font ',11' noenhanced\n"
      "set output png\n"
      "set multiplot layout 1,3 title 'Table 1: SPAT sensitivity (",
      t.result().preset(), " preset, solid = ours, mean and sd over ", t.result().seeds(),
      " seed(s); dashed = paper, CIFAR-10)'\n"
      "set ylabel 'accuracy (%)'\nset grid\nset key bottom left\n"
      "do for [p in 's alpha beta'] {\n"
      "  f = p eq 's' ? s : (p eq 'alpha' ? alpha : beta)\n"
      "  set xlabel p\n"
      "  plot f using 1:2:6 with yerrorlines lw 2 pt 7 title 'ours clean', \\\n"
      "       f using 1:3:7 with yerrorlines lw 2 pt 5 title 'ours PGD-20', \\\n"
      "       f using 1:4 with linespoints dt 2 pt 6 title 'paper clean', \\\n"
      "       f using 1:5 with linespoints dt 2 pt 4 title 'paper PGD-20'\n"
      "}\nunset multiplot\n");
  return h.Plot(t.result().id(), script, data);
}

}  // namespace spat::benchmarks
