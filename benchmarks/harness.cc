#include "benchmarks/harness.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/proto_json.h"
#include "base/status_macros.h"
#include "attacks/evaluator.h"
#include "benchmarks/stats.h"
#include "data/dataset.h"
#include "models/load_model.h"
#include "spat/run_state.h"
#include "spat/trainer.h"

namespace spat::benchmarks {
namespace {

std::string Fmt(double v) { return absl::StrFormat("%.2f", v); }

// The long preset is sized for every model to reach 98% clean accuracy: a
// Clean cell below it is marked.
bool UnderCleanFloor(const TableResult& t, const ResultCell& c) {
  return t.preset() == "long" && c.column() == "Clean" && c.runs_size() > 0 && c.ours() < 98.0;
}

}  // namespace

absl::StatusOr<Preset> ParsePreset(const std::string& name) {
  if (name == "smoke") return Preset::kSmoke;
  if (name == "cpu") return Preset::kCpu;
  if (name == "paper") return Preset::kPaper;
  if (name == "long") return Preset::kLong;
  return absl::InvalidArgumentError(
      absl::StrCat("--preset: unknown value '", name, "'; allowed: smoke, cpu, long, paper"));
}

int DefaultSeeds(Preset p) {
  switch (p) {
    case Preset::kSmoke: return 1;
    case Preset::kCpu: return 3;
    case Preset::kPaper: return 4;
    case Preset::kLong: return 3;
  }
  return 1;
}

std::string DefaultOutDir(Preset p) {
  return p == Preset::kLong ? "results/long" : absl::StrCat("spat_results/", PresetName(p));
}

std::vector<double> Clean(const std::vector<CellResult>& runs) {
  std::vector<double> v;
  for (const CellResult& r : runs) v.push_back(r.clean);
  return v;
}

std::vector<double> Pgd(const std::vector<CellResult>& runs) {
  std::vector<double> v;
  for (const CellResult& r : runs) v.push_back(r.pgd);
  return v;
}

std::vector<double> Evals(const std::vector<CellResult>& runs, const std::string& attack) {
  std::vector<double> v;
  for (const CellResult& r : runs) {
    auto it = r.evals.find(attack);
    v.push_back(it == r.evals.end() ? 0 : it->second);
  }
  return v;
}

bool LearningRateDecays(const TrainConfig& resolved) {
  const OptimizerConfig& o = resolved.optimizer();
  return LearningRate(o, o.epochs() - 1) < o.lr();
}

double Seconds(const std::vector<CellResult>& runs) {
  double s = 0;
  for (const CellResult& r : runs) s += r.seconds;
  return s;
}

std::string PresetName(Preset p) {
  switch (p) {
    case Preset::kSmoke: return "smoke";
    case Preset::kCpu: return "cpu";
    case Preset::kPaper: return "paper";
    case Preset::kLong: return "long";
  }
  return "cpu";
}

std::string DefaultPaperTablesPath() {
  return SourceTreePath("benchmarks/data/paper_tables.textproto");
}

std::string SourceTreePath(const std::string& rel) {
  for (const char* env : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    if (const char* d = std::getenv(env); d != nullptr && *d) {
      const std::string p = absl::StrCat(d, "/spat/", rel);
      if (PathExists(p)) return p;
    }
  }
  if (PathExists(rel)) return rel;
  if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY"); ws != nullptr) {
    return absl::StrCat(ws, "/", rel);
  }
  return rel;
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
  bool comparable = !trained.empty();
  bool decays = false;
  for (const CellResult& r : trained) {
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
    d_clean += (r.clean_curve[n - 1] - r.clean_curve[n - 2]) / trained.size();
    d_pgd += (r.pgd_curve[n - 1] - r.pgd_curve[n - 2]) / trained.size();
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
    if (result_.preset() == "long") {
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
                          const std::vector<double>& runs) {
  for (ResultCell& c : *result_.mutable_cells()) {
    if (c.row() == row && c.column() == column) {
      c.clear_half_budget_runs();
      for (double v : runs) c.add_half_budget_runs(v);
    }
  }
}

void Table::SetBudgets(int epochs, int half_epochs) {
  result_.set_epochs(epochs);
  result_.set_half_epochs(half_epochs);
}

std::string Table::Markdown() const {
  std::map<std::pair<std::string, std::string>, const ResultCell*> cells;
  for (const ResultCell& c : result_.cells()) cells[{c.row(), c.column()}] = &c;
  bool paper_numbers = false;  // false: a table the paper does not have
  for (const ResultCell& c : result_.cells()) paper_numbers |= c.has_paper();
  std::string md = absl::StrCat("# ", result_.title(), "\n\n");
  absl::StrAppend(&md, "Each cell: **ours: mean ± sd over n = ", result_.seeds(), " run",
                  result_.seeds() == 1 ? "" : "s", " (seeds ", result_.seeds() == 1 ? "base" :
                  "base, base + 1, ...", ")** ",
                  paper_numbers ? "(paper: mean of 4 runs)" : "(—: the paper has no such number)",
                  ". Preset `", result_.preset(), "`.\n\n");
  std::vector<std::string> header = {""};
  for (const auto& c : result_.columns()) header.push_back(c);
  std::vector<std::string> sep(header.size(), "---");
  absl::StrAppend(&md, "| ", absl::StrJoin(header, " | "), " |\n");
  absl::StrAppend(&md, "| ", absl::StrJoin(sep, " | "), " |\n");
  for (const auto& r : result_.rows()) {
    std::vector<std::string> line = {r};
    bool any = false;
    for (const auto& c : result_.columns()) {
      auto it = cells.find({r, c});
      if (it == cells.end()) {
        line.push_back("—");
        continue;
      }
      any = true;
      const ResultCell* cell = it->second;
      std::string ours = Fmt(cell->ours());
      if (cell->runs_size() > 1) absl::StrAppend(&ours, " ± ", Fmt(cell->sd()));
      if (cell->runs_size() != result_.seeds()) absl::StrAppend(&ours, " (n=", cell->runs_size(), ")");
      std::string half;
      if (cell->half_budget_runs_size() > 0) {
        const Summary h = Summarize({cell->half_budget_runs().begin(),
                                     cell->half_budget_runs().end()});
        half = absl::StrCat(" · ", result_.half_epochs(), " ep: ", Fmt(h.mean));
      }
      line.push_back(absl::StrCat("**", ours, "**",
                                  cell->has_paper() ? absl::StrCat(" (", Fmt(cell->paper()), ")")
                                                    : std::string(" (—)"),
                                  half,
                                  cell->has_converged() && !cell->converged()
                                      ? " *not converged*"
                                      : "",
                                  UnderCleanFloor(result_, *cell) ? " *under 98% clean*" : ""));
    }
    if (any) absl::StrAppend(&md, "| ", absl::StrJoin(line, " | "), " |\n");
  }
  if (result_.half_epochs() > 0) {
    absl::StrAppend(&md, absl::StrFormat(
        "\n\"%d ep\": the same cell trained for half the budget (%d epochs, its own schedule), "
        "mean over its runs. A claim is judged only where its verdict is the same at %d and at "
        "%d epochs; where it changes, more training could change it again, and the claim is "
        "*not judged*.\n",
        result_.half_epochs(), result_.half_epochs(), result_.half_epochs(), result_.epochs()));
  }
  absl::StrAppend(&md, "\n**Our protocol** (`", result_.preset(), "`): ", result_.protocol(),
                  "\n\n**Paper's protocol**: ", result_.paper_protocol(), "\n");
  if (result_.preset() != "paper" && paper_numbers) {
    absl::StrAppend(&md,
                    "\nOur numbers come from a reduced protocol, so they are not expected to "
                    "match the paper's; compare orderings and trends, not values.\n");
  }
  int under = 0;
  for (const ResultCell& c : result_.cells()) under += UnderCleanFloor(result_, c);
  if (under > 0) {
    absl::StrAppend(&md, absl::StrFormat(
        "\n**Under 98%% clean**: %d row(s) marked *under 98%% clean* did not reach the clean "
        "accuracy the long preset is sized for: less trained than the others, or trading clean "
        "accuracy for robustness (the paper finds clean accuracy falls as s grows). Claims on "
        "them are judged as on any other cell, by the verdict check.\n",
        under));
  }
  int moved = 0, decays = 0;
  for (const ResultCell& c : result_.cells()) {
    if (!c.has_converged() || c.converged()) continue;
    ++(c.lr_decays() ? decays : moved);
  }
  if (decays > 0) {
    absl::StrAppend(&md, absl::StrFormat(
        "\n**Not converged**: %d cell(s) marked *not converged* come from training whose "
        "learning rate decays within the run, which flattens its last epochs whether or not "
        "training has plateaued: their last epoch cannot show convergence, and the claims on "
        "them are not judged. The long preset (results/long/) judges each claim at the full "
        "and at half the budget instead.\n",
        decays));
  }
  if (moved > 0) {
    absl::StrAppend(&md, absl::StrFormat(
        "\n**Not converged**: %d cell(s) marked *not converged* come from training whose last "
        "epoch still moved the mean clean or PGD-20 accuracy by more than %.0f point (or that "
        "ran one epoch); they describe the optimizer's progress, not the method, and the "
        "claims on them are not judged.\n",
        moved, kConvergedWithin));
  }
  for (const auto& n : result_.notes()) absl::StrAppend(&md, "\n- ", n);
  if (result_.notes_size() > 0) absl::StrAppend(&md, "\n");
  if (result_.claims_size() > 0) {
    int counts[4] = {0, 0, 0, 0};
    for (const ClaimResult& c : result_.claims()) {
      ++counts[c.outcome() == "holds"          ? 0
               : c.outcome() == "contradicted" ? 1
               : c.outcome() == "not judged"   ? 3
                                               : 2];
    }
    absl::StrAppend(&md, absl::StrFormat(
        "\n## %s, tested on our runs\n\n%d hold, %d contradicted, %d "
        "inconclusive, %d not judged (tests at alpha 0.05 over each cell's runs, one-sided unless "
        "a claim says otherwise; "
        "contradicted = significant in the other direction; not judged = %s).\n\n",
        paper_numbers ? "The paper's claims" : "Claims", counts[0], counts[1], counts[2],
        counts[3],
        result_.half_epochs() > 0
            ? absl::StrFormat("the verdict at %d epochs differs from the one at %d",
                              result_.half_epochs(), result_.epochs())
            : std::string("a cell compared did not converge")));
    for (const ClaimResult& c : result_.claims()) {
      absl::StrAppend(&md, "- **", c.outcome(), "**",
                      (c.outcome() == "inconclusive" && c.p() >= 1) || c.outcome() == "not judged"
                          ? std::string()
                          : absl::StrFormat(" (p = %.4f)", c.p()),
                      ": ", c.statement(), ". ", c.evidence(), ".",
                      c.has_half_budget_outcome() && c.outcome() != "not judged"
                          ? absl::StrCat(" Same verdict at ", result_.half_epochs(), " epochs",
                                         c.half_budget_outcome() == "inconclusive" &&
                                                 c.half_budget_p() >= 1
                                             ? std::string()
                                             : absl::StrFormat(" (p = %.4f)", c.half_budget_p()),
                                         ".")
                          : std::string(),
                      " *", c.test(), "; ", c.source(), "*\n");
    }
  }
  return md;
}

Harness::Harness(HarnessOptions options) : options_(std::move(options)) {
  if (options_.paper_tables.empty()) options_.paper_tables = DefaultPaperTablesPath();
}

void Table::AddClaims(const std::vector<Claim>& claims) {
  for (const Claim& c : claims) *result_.add_claims() = ToResult(c);
}

absl::StatusOr<PaperTable> Harness::Paper(const std::string& id) const {
  SPAT_ASSIGN_OR_RETURN(std::string text, ReadFile(options_.paper_tables));
  PaperTables all;
  if (!google::protobuf::TextFormat::ParseFromString(text, &all)) {
    return absl::InvalidArgumentError(
        absl::StrCat(options_.paper_tables, ": cannot parse the paper's tables"));
  }
  for (const PaperTable& t : all.tables()) {
    if (t.id() == id) return t;
  }
  return absl::NotFoundError(absl::StrCat(options_.paper_tables, " has no table '", id, "'"));
}

namespace {

void SetCurves(const TrainSummary& s, CellResult* r) {
  for (const EpochRecord& e : s.epochs) {
    if (!e.evaluated) continue;
    r->curve_epochs.push_back(e.epoch);
    r->clean_curve.push_back(e.clean);
    r->pgd_curve.push_back(e.pgd);
  }
}

}  // namespace

absl::Status ParseShard(const std::string& text, int* shard, int* num_shards) {
  const size_t slash = text.find('/');
  int i = 0, n = 0;
  if (slash == std::string::npos || !absl::SimpleAtoi(text.substr(0, slash), &i) ||
      !absl::SimpleAtoi(text.substr(slash + 1), &n) || n < 1 || i < 0 || i >= n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard='", text, "': expected i/N with 0 <= i < N, e.g. --shard=0/2"));
  }
  *shard = i;
  *num_shards = n;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<CellResult>> Harness::TrainCells(
    const std::string& cell, const TrainConfig& config,
    const std::function<CellEvals(int)>& evals_for) const {
  std::vector<CellResult> runs;
  for (int k = 0; k < std::max(1, options_.seeds); ++k) {
    TrainConfig c = config;
    c.set_seed(config.seed() + k);
    CellEvals evals;
    if (evals_for) evals = evals_for(k);
    SPAT_ASSIGN_OR_RETURN(CellResult r,
                          TrainCell(k == 0 ? cell : absl::StrCat(cell, "_seed", c.seed()), c,
                                    evals_for ? &evals : nullptr));
    runs.push_back(std::move(r));
  }
  return runs;
}

namespace {

// An exclusive lock on a cell folder for as long as it lives, so that two
// processes (two table binaries sharing a cell, or a second run started by
// mistake) never train or evaluate the same cell at once: the second waits.
class CellLock {
 public:
  static absl::StatusOr<CellLock> Acquire(const std::string& dir, const std::string& cell,
                                          std::ostream* log) {
    const std::string path = dir + "/.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", path));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (log) *log << "[" << cell << "] another process holds " << path << ": waiting for it\n";
      if (::flock(fd, LOCK_EX) != 0) {
        ::close(fd);
        return absl::InternalError(absl::StrCat("cannot lock ", path));
      }
    }
    return CellLock(fd);
  }
  CellLock(CellLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  CellLock& operator=(CellLock&&) = delete;
  ~CellLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit CellLock(int fd) : fd_(fd) {}
  int fd_;
};

// True if another process holds the cell's lock (trains or attacks it now).
bool LockHeld(const std::string& dir) {
  const std::string path = dir + "/.lock";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

// DIR/evals.json, empty if absent.
absl::StatusOr<CellEvalRecords> ReadEvalRecords(const std::string& dir) {
  const std::string path = dir + "/evals.json";
  CellEvalRecords records;
  if (!PathExists(path)) return records;
  SPAT_ASSIGN_OR_RETURN(std::string json, ReadFile(path));
  if (!google::protobuf::util::JsonStringToMessage(json, &records).ok()) {
    return absl::DataLossError(absl::StrCat(path, " does not parse as the cell's evaluations; "
                                            "remove it to run them again"));
  }
  return records;
}

absl::StatusOr<attacks::AttackSpec> ParseCellAttack(const std::string& cell,
                                                   const std::string& attack) {
  absl::StatusOr<attacks::AttackSpec> spec = attacks::ParseAttack(attack);
  if (!spec.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cell '", cell, "': final attack: ", spec.status().message()));
  }
  return spec;
}

// The record of attack `a` (same images, radius and, for a transfer attack,
// source cell), or null.
const CellEvalRecord* FindEvalRecord(const CellEvalRecords& records, const CellEvals& evals,
                                     const CellEvals::Attack& a, bool transfer) {
  for (const CellEvalRecord& e : records.evals()) {
    if (e.attack() == a.name && e.images() == a.images &&
        std::abs(e.epsilon() - evals.epsilon) < 1e-9 &&
        (!transfer || e.source() == evals.source_cell)) {
      return &e;
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<CellResult> Harness::TrainCell(const std::string& cell, TrainConfig config,
                                              const CellEvals* evals) const {
  const int ordinal = cells_visited_++;
  if (options_.status) return CellStatus(cell, std::move(config), evals);
  if (TrainingOnly() && ordinal % options_.num_shards != options_.shard) {
    if (options_.log) {
      *options_.log << absl::StrFormat("[%s] cell #%d belongs to shard %d/%d: skipped\n", cell,
                                       ordinal, ordinal % options_.num_shards,
                                       options_.num_shards);
    }
    CellResult skipped;
    skipped.skipped = true;
    return skipped;
  }
  ++cells_owned_;
  return TrainOwnedCell(cell, std::move(config), evals, ordinal);
}

absl::StatusOr<TrainConfig> Harness::CellConfig(const std::string& dir,
                                                TrainConfig config) const {
  config.set_out_dir(dir);
  if (options_.threads > 0) config.set_threads(options_.threads);
  // Set only off the defaults, so that cells finished before these fields
  // existed keep their identity.
  if (!options_.device.is_cpu()) config.set_device(options_.device.str());
  if (!options_.cuda_graphs && options_.device.is_cuda()) config.set_cuda_graphs(false);
  return ResolveTrainConfig(config);
}

absl::StatusOr<CellResult> Harness::CellStatus(const std::string& cell, TrainConfig config,
                                               const CellEvals* evals) const {
  CellResult r;
  r.skipped = true;
  if (!status_seen_.insert(cell).second) {
    if (options_.log) *options_.log << "[" << cell << "] as above\n";
    return r;
  }
  const std::string dir = absl::StrCat(options_.out_dir, "/cells/", cell);
  SPAT_ASSIGN_OR_RETURN(const TrainConfig resolved, CellConfig(dir, std::move(config)));
  const RunDir run(dir);
  const int epochs = resolved.optimizer().epochs();
  status_.epochs += epochs;
  const bool running = LockHeld(dir);
  status_.running += running;
  int done = 0;
  bool stale = false;  // metrics.json of another run
  const bool finished = run.Finished(resolved).ok();
  if (finished) {
    done = epochs;
  } else if (absl::StatusOr<TrainSummary> s = run.ReadSummary();
             s.ok() && run.CheckResumable(resolved).ok()) {
    done = static_cast<int>(std::min<size_t>(s->epochs.size(), epochs));
  } else {
    stale = PathExists(run.metrics_path());
  }
  status_.epochs_done += done;
  const int want = evals == nullptr ? 0 : static_cast<int>(evals->attacks.size());
  int have = 0;
  if (finished && want > 0) {
    SPAT_ASSIGN_OR_RETURN(const CellEvalRecords records, ReadEvalRecords(dir));
    for (const CellEvals::Attack& a : evals->attacks) {
      SPAT_ASSIGN_OR_RETURN(const attacks::AttackSpec spec, ParseCellAttack(cell, a.name));
      have += FindEvalRecord(records, *evals, a, spec.transfer) != nullptr;
    }
  }
  status_.evals += want;
  status_.evals_done += have;
  const bool complete = finished && have == want;
  status_.finished += complete;
  std::string state = complete ? "finished"
                      : stale  ? "holds another run (its config differs): training starts over"
                      : finished ? "trained"
                                 : absl::StrFormat("%d of %d epochs", done, epochs);
  if (!complete && want > 0) {
    absl::StrAppend(&state, absl::StrFormat("; final attacks %d of %d", have, want));
  }
  if (options_.log) {
    *options_.log << absl::StrCat("[", cell, "] ", state, running ? " (running now)" : "", "\n");
  }
  return r;
}

std::string Harness::StatusSummary() const {
  std::string s = absl::StrFormat(
      "%d of %d cells finished (%d running now); %d of %d epochs trained", status_.finished,
      static_cast<int>(status_seen_.size()), status_.running, status_.epochs_done,
      status_.epochs);
  if (status_.evals > 0) {
    absl::StrAppend(&s, absl::StrFormat("; final attacks: %d of %d done", status_.evals_done,
                                        status_.evals));
  }
  return s;
}

absl::StatusOr<CellResult> Harness::TrainOwnedCell(const std::string& cell, TrainConfig config,
                                                   const CellEvals* evals, int ordinal) const {
  const std::string dir = absl::StrCat(options_.out_dir, "/cells/", cell);
  SPAT_RETURN_IF_ERROR(MakeDirs(dir));
  SPAT_ASSIGN_OR_RETURN(CellLock lock, CellLock::Acquire(dir, cell, options_.log));
  SPAT_ASSIGN_OR_RETURN(const TrainConfig resolved, CellConfig(dir, std::move(config)));
  // A cell is a run folder (spat/run_state.h): finished if it holds every
  // epoch of the same run, whatever the spelling of out_dir or the threads.
  const RunDir run(dir);
  CellResult r;
  r.checkpoint = run.checkpoint_path();
  r.lr_decays = LearningRateDecays(resolved);
  if (absl::StatusOr<TrainSummary> done = run.Finished(resolved); done.ok()) {
    r.clean = done->clean_accuracy;
    r.pgd = done->pgd_accuracy;
    r.seconds = done->seconds();
    SetCurves(*done, &r);
    r.reused = true;
    if (options_.log) {
      *options_.log << absl::StrFormat("[%s] finished earlier: clean %.2f%%, pgd %.2f%%\n",
                                       cell, r.clean, r.pgd);
    }
  } else {
    if (options_.merge) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--merge: cell '", cell, "' (#", ordinal, ") is not finished in ", dir,
          ": run every --shard=i/N of this binary with the same preset first and gather their "
          "DIR/cells/ directories into ", options_.out_dir, "/cells/"));
    }
    const bool resume = run.Resumable(resolved);
    if (options_.log) {
      *options_.log << absl::StrCat("[", cell, "] ", resume ? "resuming\n" : "training\n");
    }
    SPAT_ASSIGN_OR_RETURN(TrainSummary s, Train(resolved, options_.log, resume));
    r.clean = s.clean_accuracy;
    r.pgd = s.pgd_accuracy;
    r.seconds = s.seconds();
    SetCurves(s, &r);
  }
  if (evals != nullptr) SPAT_RETURN_IF_ERROR(EvaluateCell(cell, dir, resolved, *evals, &r));
  return r;
}

absl::StatusOr<std::function<at::Tensor(const at::Tensor&)>> LoadForward(
    const Harness& h, const std::string& checkpoint, const std::string& model,
    const data::Dataset& test) {
  models::ModelSpec spec;
  spec.name = model;
  spec.num_classes = test.num_classes;
  spec.in_channels = test.images.size(1);
  spec.image_size = test.images.size(2);
  SPAT_ASSIGN_OR_RETURN(auto m, models::LoadModel(checkpoint, spec));
  m->to(h.options().device);
  return attacks::ForwardFn([m](const at::Tensor& t) { return m->forward(t); });
}

absl::Status Harness::EvaluateCell(const std::string& cell, const std::string& dir,
                                   const TrainConfig& config, const CellEvals& evals,
                                   CellResult* r) const {
  const std::string path = dir + "/evals.json";
  SPAT_ASSIGN_OR_RETURN(CellEvalRecords records, ReadEvalRecords(dir));
  const std::string source = evals.source_cell;
  // Every attack's settings, checked before any of them runs.
  std::map<std::string, attacks::AttackSpec> specs;
  for (const CellEvals::Attack& a : evals.attacks) {
    SPAT_ASSIGN_OR_RETURN(specs[a.name], ParseCellAttack(cell, a.name));
  }
  auto find = [&](const CellEvals::Attack& a) {
    return FindEvalRecord(records, evals, a, specs.at(a.name).transfer);
  };
  std::vector<CellEvals::Attack> missing;
  for (const CellEvals::Attack& a : evals.attacks) {
    if (const CellEvalRecord* e = find(a)) {
      r->evals[a.name] = e->accuracy();
    } else {
      missing.push_back(a);
    }
  }
  if (missing.empty()) return absl::OkStatus();
  if (!PathExists(r->checkpoint)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cell '", cell, "': ", path, " has no result for ", missing.front().name, " on ",
        missing.front().images, " images at eps ", evals.epsilon, ", and the trained model (",
        r->checkpoint, ") is not there to attack: remove ", dir,
        "/metrics.json to train the cell again"));
  }
  int64_t n = 0;
  for (const CellEvals::Attack& a : missing) n = std::max(n, a.images);
  const data::DatasetSpec dspec{config.dataset().name(), config.dataset().data_dir()};
  SPAT_ASSIGN_OR_RETURN(data::Dataset test, data::LoadDataset(dspec, data::Split::kTest, n));
  SPAT_ASSIGN_OR_RETURN(const attacks::ForwardFn fn,
                        LoadForward(*this, r->checkpoint, config.model().name(), test));
  attacks::ForwardFn source_fn;
  for (const CellEvals::Attack& a : missing) {
    if (!specs.at(a.name).transfer || source_fn) continue;
    if (source.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cell '", cell, "': ", a.name, " needs a source cell"));
    }
    // Trained here whichever shard owns it: the lock makes the others wait.
    SPAT_ASSIGN_OR_RETURN(CellResult src, TrainOwnedCell(source, evals.source, nullptr, -1));
    SPAT_ASSIGN_OR_RETURN(source_fn,
                          LoadForward(*this, src.checkpoint, evals.source.model().name(), test));
  }
  attacks::EvaluatorOptions eo;
  eo.epsilon = evals.epsilon;
  eo.num_classes = static_cast<int>(test.num_classes);
  eo.device = options_.device;
  eo.cuda_graphs = options_.cuda_graphs;
  for (const CellEvals::Attack& a : missing) {
    const attacks::AttackSpec& spec = specs.at(a.name);
    const int64_t k = std::min<int64_t>(a.images, test.images.size(0));
    const attacks::AttackOutcome o =
        attacks::RunAttack(spec, fn, source_fn, test.images.narrow(0, 0, k),
                           test.labels.narrow(0, 0, k), eo, options_.log);
    if (options_.log) {
      *options_.log << absl::StrFormat("[%s] %s on %d images: %.2f%% (%.1f s)\n", cell, a.name,
                                       k, o.accuracy, o.seconds);
    }
    CellEvalRecord* e = records.add_evals();
    e->set_attack(a.name);
    e->set_images(a.images);
    e->set_epsilon(evals.epsilon);
    e->set_accuracy(o.accuracy);
    e->set_seconds(o.seconds);
    e->set_settings(o.settings);
    if (spec.transfer) e->set_source(source);
    r->evals[a.name] = o.accuracy;
    // After every attack: a kill loses at most the attack in progress.
    SPAT_RETURN_IF_ERROR(WriteFileAtomically(path, ToJson(records, /*with_defaults=*/false)));
  }
  return absl::OkStatus();
}

absl::Status Harness::Write(const Table& table) const {
  SPAT_RETURN_IF_ERROR(MakeDirs(options_.out_dir));
  const std::string base = absl::StrCat(options_.out_dir, "/", table.result().id());
  const std::string md = table.Markdown();
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(base + ".md", md));
  SPAT_RETURN_IF_ERROR(
      WriteFileAtomically(base + ".json", ToJson(table.result(), /*with_defaults=*/false)));
  if (options_.log) *options_.log << "wrote " << base << ".md and .json\n";
  return absl::OkStatus();
}

absl::Status Harness::Plot(const std::string& name, const std::string& script,
                           const std::map<std::string, std::string>& data_files) const {
  SPAT_RETURN_IF_ERROR(MakeDirs(options_.out_dir));
  const std::string png = absl::StrCat(options_.out_dir, "/", name, ".png");
  const std::string gp = absl::StrCat(options_.out_dir, "/", name, ".gp");
  std::string full = absl::StrCat("png = '", png, "'\n");
  for (const auto& [file, content] : data_files) {
    const std::string path = absl::StrCat(options_.out_dir, "/", file);
    SPAT_RETURN_IF_ERROR(WriteFileAtomically(path, content));
    absl::StrAppend(&full, file.substr(0, file.find('.')), " = '", path, "'\n");
  }
  absl::StrAppend(&full, script);
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(gp, full));
  if (!PathExists("/usr/bin/gnuplot")) {
    if (options_.log) *options_.log << "warning: gnuplot not installed; skipped " << png << "\n";
    return absl::OkStatus();
  }
  const std::string cmd = absl::StrCat("/usr/bin/gnuplot '", gp, "' 2>&1");
  const int rc = std::system(cmd.c_str());
  if (rc != 0 || !PathExists(png)) {
    return absl::InternalError(absl::StrCat("gnuplot failed on ", gp, " (exit ", rc, ")"));
  }
  if (options_.log) *options_.log << "wrote " << png << "\n";
  return absl::OkStatus();
}

}  // namespace spat::benchmarks
