#include "benchmarks/ablation_tables.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "benchmarks/presets.h"

namespace spat::benchmarks {
namespace {

struct Variant {
  std::string row;
  double s = 5, alpha = 0.2, beta = 0.2;
  bool sp_acc = true, sp_rob = true, use_nce = true;
};

std::string CellName(const Variant& v) {
  return absl::StrFormat("spat_s%g_a%g_b%g%s%s%s", v.s, v.alpha, v.beta,
                         v.sp_acc ? "" : "_noSPacc", v.sp_rob ? "" : "_noSProb",
                         v.use_nce ? "" : "_ce");
}

absl::StatusOr<Table> RunVariants(const Harness& h, const std::string& id,
                                  const std::vector<Variant>& variants) {
  SPAT_ASSIGN_OR_RETURN(PaperTable paper, h.Paper(id));
  SPAT_ASSIGN_OR_RETURN(TrainConfig base, AblationBase(h.options().preset));
  Table table(paper, h.options().preset, DescribeProtocol(base));
  for (size_t i = 0; i < variants.size(); ++i) {
    const Variant& v = variants[i];
    TrainConfig c = base;
    MethodConfig* m = c.mutable_method();
    m->set_s(v.s);
    m->set_alpha(v.alpha);
    m->set_beta(v.beta);
    m->set_sp_acc(v.sp_acc);
    m->set_sp_rob(v.sp_rob);
    m->set_use_nce(v.use_nce);
    if (h.options().log) {
      *h.options().log << absl::StrFormat("\n== %s: cell %d/%d, %s\n", id, i + 1,
                                          variants.size(), v.row);
    }
    SPAT_ASSIGN_OR_RETURN(std::vector<CellResult> runs, h.TrainCells(CellName(v), c));
    table.Add(v.row, "Clean", Clean(runs), Seconds(runs), &runs);
    table.Add(v.row, "PGD-20", Pgd(runs), Seconds(runs), &runs);
  }
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
  SPAT_ASSIGN_OR_RETURN(Table t, RunVariants(h, "table1", v));
  t.Note("Rows s=5, alpha=0.2 and beta=0.2 are the same configuration (the defaults), "
         "trained once.");
  t.AddClaims(Table1Claims(t.result()));
  return t;
}

absl::StatusOr<Table> RunTable2(const Harness& h) {
  SPAT_ASSIGN_OR_RETURN(Table t, RunVariants(h, "table2",
                                             {{"L_nce^sp + lambda L_rob^sp"},
                                              {"L_nce + lambda L_rob^sp", 5, 0.2, 0.2, false, true},
                                              {"L_nce^sp + lambda L_rob", 5, 0.2, 0.2, true, false},
                                              {"L_nce + lambda L_rob", 5, 0.2, 0.2, false, false}}));
  t.AddClaims(Table2Claims(t.result()));
  return t;
}

absl::StatusOr<Table> RunTable3(const Harness& h) {
  SPAT_ASSIGN_OR_RETURN(
      Table t, RunVariants(h, "table3",
                           {{"L_nce^sp + lambda L_rob^sp"},
                            {"L_ce^sp + lambda L_rob^sp", 5, 0.2, 0.2, true, true, false},
                            {"L_ce + lambda L_rob", 5, 0.2, 0.2, false, false, false}}));
  t.AddClaims(Table3Claims(t.result()));
  return t;
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
