#include "benchmarks/table.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "benchmarks/stats.h"

namespace spat::benchmarks {

std::string PresetName(Preset p) {
  switch (p) {
    case Preset::kSmoke: return "smoke";
    case Preset::kCpu: return "cpu";
    case Preset::kPaper: return "paper";
    case Preset::kLong: return "long";
    case Preset::kEps03: return "eps03";
  }
  return "cpu";
}

bool JudgedAtTwoBudgets(Preset p) { return p == Preset::kLong || p == Preset::kEps03; }

bool JudgedAtTwoBudgets(const std::string& preset_name) {
  return preset_name == "long" || preset_name == "eps03";
}

std::vector<double> Clean(const std::vector<CellResult>& runs) {
  std::vector<double> v;
  for (const CellResult& r : runs) {
    if (!r.collapsed()) v.push_back(r.clean);
  }
  return v;
}

std::vector<double> Pgd(const std::vector<CellResult>& runs) {
  std::vector<double> v;
  for (const CellResult& r : runs) {
    if (!r.collapsed()) v.push_back(r.pgd);
  }
  return v;
}

std::vector<double> Evals(const std::vector<CellResult>& runs, const std::string& attack) {
  std::vector<double> v;
  for (const CellResult& r : runs) {
    if (r.collapsed()) continue;
    auto it = r.evals.find(attack);
    v.push_back(it == r.evals.end() ? 0 : it->second);
  }
  return v;
}

int CollapsedRuns(const std::vector<CellResult>& runs) {
  int n = 0;
  for (const CellResult& r : runs) n += r.collapsed();
  return n;
}

std::vector<CellResult> Healthy(const std::vector<CellResult>& runs) {
  std::vector<CellResult> healthy;
  for (const CellResult& r : runs) {
    if (!r.collapsed()) healthy.push_back(r);
  }
  return healthy;
}

double Seconds(const std::vector<CellResult>& runs) {
  double s = 0;
  for (const CellResult& r : runs) s += r.seconds;
  return s;
}

Table::Table(const PaperTable& paper, Preset preset, std::string protocol) {
  result_.set_id(paper.id());
  result_.set_title(paper.title());
  result_.set_preset(PresetName(preset));
  result_.set_protocol(std::move(protocol));
  result_.set_paper_protocol(paper.protocol());
  for (const auto& r : paper.rows()) result_.add_rows(r);
  for (const auto& c : paper.columns()) result_.add_columns(c);
  for (const Cell& c : paper.cells()) paper_[{c.row(), c.column()}] = c.value();
}

namespace {

// The runs' curves, and whether their last epoch still moved the means
// (under a constant learning rate: a decaying one flattens the last epochs
// whatever the training's progress).
void SetConvergence(const std::vector<CellResult>& trained, ResultCell* c) {
  double d_clean = 0, d_pgd = 0;
  std::vector<const CellResult*> healthy;
  for (const CellResult& r : trained) {
    if (!r.collapsed()) healthy.push_back(&r);
  }
  bool comparable = !healthy.empty();
  bool decays = false;
  for (const CellResult* run : healthy) {
    const CellResult& r = *run;
    decays = decays || r.lr_decays;
    RunCurve* curve = c->add_curves();
    for (double v : r.clean_curve) curve->add_clean(v);
    for (double v : r.pgd_curve) curve->add_pgd(v);
    for (int e : r.curve_epochs) curve->add_epoch(e);
    const size_t n = std::min(r.clean_curve.size(), r.pgd_curve.size());
    // Runs that record their evaluated epochs (eval_every) compare only an
    // epoch with the one before it.
    const bool gap = n >= 2 && r.curve_epochs.size() == n &&
                     r.curve_epochs[n - 1] != r.curve_epochs[n - 2] + 1;
    if (n < 2 || gap) {
      comparable = false;
      continue;
    }
    d_clean += (r.clean_curve[n - 1] - r.clean_curve[n - 2]) / healthy.size();
    d_pgd += (r.pgd_curve[n - 1] - r.pgd_curve[n - 2]) / healthy.size();
  }
  c->set_last_epoch_change_clean(d_clean);
  c->set_last_epoch_change_pgd(d_pgd);
  if (decays) c->set_lr_decays(true);
  c->set_converged(comparable && !decays && std::abs(d_clean) <= kConvergedWithin &&
                   std::abs(d_pgd) <= kConvergedWithin);
}

}  // namespace

void Table::Add(const std::string& row, const std::string& column,
                const std::vector<double>& runs, double seconds,
                const std::vector<CellResult>* trained) {
  ResultCell* c = result_.add_cells();
  if (trained != nullptr) {
    SetConvergence(*trained, c);
    if (int collapsed = CollapsedRuns(*trained); collapsed > 0) c->set_collapsed_runs(collapsed);
    if (JudgedAtTwoBudgets(result_.preset())) {
      // Judged by the half-budget check instead (JudgeAtBothBudgets): the
      // last epoch's change says little under a decaying schedule.
      c->clear_converged();
      c->clear_last_epoch_change_clean();
      c->clear_last_epoch_change_pgd();
      c->clear_lr_decays();
    }
  }
  c->set_row(row);
  c->set_column(column);
  const Summary s = Summarize(runs);
  c->set_ours(s.mean);
  c->set_sd(s.sd);
  for (double v : runs) c->add_runs(v);
  result_.set_seeds(std::max(result_.seeds(), s.n));
  if (seconds > 0) c->set_seconds(seconds);
  if (auto it = paper_.find({row, column}); it != paper_.end()) c->set_paper(it->second);
  bool known_row = false, known_col = false;
  for (const auto& r : result_.rows()) known_row |= r == row;
  for (const auto& k : result_.columns()) known_col |= k == column;
  if (!known_row) result_.add_rows(row);
  if (!known_col) result_.add_columns(column);
}

void Table::AddHalfBudget(const std::string& row, const std::string& column,
                          const std::vector<double>& runs, int collapsed) {
  for (ResultCell& c : *result_.mutable_cells()) {
    if (c.row() == row && c.column() == column) {
      c.clear_half_budget_runs();
      for (double v : runs) c.add_half_budget_runs(v);
      c.clear_half_budget_collapsed_runs();
      if (collapsed > 0) c.set_half_budget_collapsed_runs(collapsed);
    }
  }
}

void Table::SetBudgets(int epochs, int half_epochs) {
  result_.set_epochs(epochs);
  result_.set_half_epochs(half_epochs);
}

void Table::ApplyFloors(double regime_clean, double regime_pgd, double floor_clean,
                        double floor_pgd, const TableResult* from) {
  result_.set_regime_clean(regime_clean);
  result_.set_regime_pgd(regime_pgd);
  result_.set_floor_clean(floor_clean);
  result_.set_floor_pgd(floor_pgd);
  std::set<std::string> below;
  for (const ResultCell& c : (from != nullptr ? *from : result_).cells()) {
    if (c.runs_size() == 0) continue;
    if ((c.column() == "Clean" && c.ours() < floor_clean) ||
        (c.column() == "PGD-20" && c.ours() < floor_pgd)) {
      below.insert(c.row());
    }
  }
  for (ResultCell& c : *result_.mutable_cells()) {
    if (below.count(c.row()) > 0) c.set_below_floor(true);
  }
}

void Table::AddClaims(const std::vector<Claim>& claims) {
  for (const Claim& c : claims) *result_.add_claims() = ToResult(c);
}

}  // namespace spat::benchmarks
