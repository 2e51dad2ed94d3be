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
#include "benchmarks/table_render.h"
#include "data/dataset.h"
#include "models/load_model.h"
#include "spat/run_state.h"
#include "spat/trainer.h"

namespace spat::benchmarks {

absl::StatusOr<Preset> ParsePreset(const std::string& name) {
  if (name == "smoke") return Preset::kSmoke;
  if (name == "cpu") return Preset::kCpu;
  if (name == "paper") return Preset::kPaper;
  if (name == "long") return Preset::kLong;
  if (name == "eps03") return Preset::kEps03;
  return absl::InvalidArgumentError(absl::StrCat(
      "--preset: unknown value '", name, "'; allowed: smoke, cpu, long, eps03, paper"));
}

int DefaultSeeds(Preset p) {
  switch (p) {
    case Preset::kSmoke: return 1;
    case Preset::kCpu: return 3;
    case Preset::kPaper: return 4;
    case Preset::kLong: return 3;
    case Preset::kEps03: return 3;
  }
  return 1;
}

std::string DefaultOutDir(Preset p) {
  return JudgedAtTwoBudgets(p) ? absl::StrCat("results/", PresetName(p))
                               : absl::StrCat("spat_results/", PresetName(p));
}

bool LearningRateDecays(const TrainConfig& resolved) {
  const OptimizerConfig& o = resolved.optimizer();
  return LearningRate(o, o.epochs() - 1) < o.lr();
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

Harness::Harness(HarnessOptions options) : options_(std::move(options)) {
  if (options_.paper_tables.empty()) options_.paper_tables = DefaultPaperTablesPath();
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

void SetCollapse(const TrainSummary& s, CellResult* r) {
  r->collapsed_epoch = s.collapsed_epoch;
  r->collapse_reason = s.collapse_reason;
}

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
  const int seeds = std::max(1, options_.seeds);
  auto name_of = [&](uint64_t seed) {
    return seed == config.seed() ? cell : absl::StrCat(cell, "_seed", seed);
  };
  std::vector<CellResult> runs;
  int healthy = 0, replacements = 0;
  for (int k = 0; k < seeds; ++k) {
    TrainConfig c = config;
    c.set_seed(config.seed() + k);
    // The final attacks of the healthy run this one would be (AutoAttack on
    // the first, for instance).
    CellEvals evals;
    if (evals_for) evals = evals_for(healthy);
    const CellEvals* e = evals_for ? &evals : nullptr;
    SPAT_ASSIGN_OR_RETURN(CellResult r, TrainCell(name_of(c.seed()), c, e));
    // A collapsed run is replaced by the next seed after the cell's own, up
    // to kMaxReplacements per cell; its owner (or --status) visits the
    // replacement at once, outside the shards' round-robin.
    while (r.collapsed() && replacements < kMaxReplacements) {
      runs.push_back(std::move(r));
      c.set_seed(config.seed() + seeds + replacements++);
      if (options_.log) {
        *options_.log << "[" << name_of(c.seed()) << "] replaces a collapsed run of " << cell
                      << "\n";
      }
      SPAT_ASSIGN_OR_RETURN(r, options_.status ? CellStatus(name_of(c.seed()), c, e)
                                               : TrainOwnedCell(name_of(c.seed()), c, e, -1));
    }
    healthy += !r.collapsed();
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
  absl::StatusOr<TrainSummary> summary = run.Finished(resolved);
  const bool finished = summary.ok();
  if (finished) {
    SPAT_RETURN_IF_ERROR(MarkCollapseOnCurve(resolved, &*summary).status());
    SetCollapse(*summary, &r);
    done = epochs;
  } else if (absl::StatusOr<TrainSummary> s = run.ReadSummary();
             s.ok() && run.CheckResumable(resolved).ok()) {
    done = static_cast<int>(std::min<size_t>(s->epochs.size(), epochs));
  } else {
    stale = PathExists(run.metrics_path());
  }
  status_.epochs_done += done;
  const int want = evals == nullptr || r.collapsed() ? 0 : static_cast<int>(evals->attacks.size());
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
  std::string state = r.collapsed() ? absl::StrCat("collapsed: ", r.collapse_reason)
                      : complete ? "finished"
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
    SPAT_RETURN_IF_ERROR(MarkCollapseOnCurve(resolved, &*done).status());
    SetCollapse(*done, &r);
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
    SPAT_RETURN_IF_ERROR(MarkCollapseOnCurve(resolved, &s).status());
    SetCollapse(s, &r);
    r.clean = s.clean_accuracy;
    r.pgd = s.pgd_accuracy;
    r.seconds = s.seconds();
    SetCurves(s, &r);
  }
  if (r.collapsed()) {
    // Left out of every mean: no final attacks.
    if (options_.log) {
      *options_.log << "[" << cell << "] collapsed: " << r.collapse_reason << "\n";
    }
    return r;
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
    attacks::EvaluatorOptions ea = eo;
    if (spec.kind == attacks::AttackKind::kAutoAttack) {
      ea.autoattack_resume_file = dir + "/" + a.name + ".partial.pt";
    }
    const attacks::AttackOutcome o =
        attacks::RunAttack(spec, fn, source_fn, test.images.narrow(0, 0, k),
                           test.labels.narrow(0, 0, k), ea, options_.log);
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
    // After every attack: a kill loses at most the attack in progress (of
    // AutoAttack, the component in progress: it resumes from its partial file).
    SPAT_RETURN_IF_ERROR(WriteFileAtomically(path, ToJson(records, /*with_defaults=*/false)));
  }
  return absl::OkStatus();
}

absl::Status Harness::Write(const Table& table) const {
  return WriteTable(options_.out_dir, table.result(), options_.log);
}

absl::Status Harness::Plot(const std::string& name, const std::string& script,
                           const std::map<std::string, std::string>& data_files) const {
  return WritePlot(options_.out_dir, name, script, data_files, options_.log);
}

}  // namespace spat::benchmarks
