// Shared machinery of the table binaries: presets, resumable training cells
// and their final attacks, the paper's numbers. The harness runs cells and
// hands their results to a Table (benchmarks/table.h), which
// benchmarks/table_render.h turns into Markdown, JSON and figures.
//
//   Harness h(options);                       // --preset, --seeds, --out_dir, --shard ...
//   SPAT_ASSIGN_OR_RETURN(std::vector<CellResult> runs, h.TrainCells("s=5", config));
//   table.Add("s=5", "Clean", Clean(runs));   // mean ± sd over the seeds
//   SPAT_RETURN_IF_ERROR(h.Write(table));     // table1.md, table1.json, table1.png
//
// A cell is one training run in DIR/cells/<cell>/ (a run folder,
// spat/run_state.h). A finished cell (the same run, every epoch in its
// metrics.json) is read back, not recomputed; an interrupted one resumes from
// its last finished epoch.
// Under --seeds=N a table cell is N such runs, with seeds base, base + 1, ...
// in DIR/cells/<cell>/ (the base seed) and DIR/cells/<cell>_seed<seed>/.
#ifndef SPAT_BENCHMARKS_HARNESS_H_
#define SPAT_BENCHMARKS_HARNESS_H_

#include <functional>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "benchmarks/results.pb.h"
#include "benchmarks/table.h"
#include "spat/config.pb.h"

namespace at {
class Tensor;
}  // namespace at
namespace spat::data {
struct Dataset;
}  // namespace spat::data

namespace spat::benchmarks {

// Runs per table cell when --seeds is not given: smoke 1, cpu 3, paper 4 (the
// paper's), long 3, eps03 3. The cpu preset's cell size is chosen so that the main job
// (table1_sweep, 11 distinct cells x 3 seeds) takes about 45 minutes on 2 cores.
int DefaultSeeds(Preset p);

// Where a table binary writes when --out_dir is not given: results/<preset>
// for the long and eps03 presets (their results are kept in the repository),
// else spat_results/<preset>.
std::string DefaultOutDir(Preset p);

absl::StatusOr<Preset> ParsePreset(const std::string& name);

// Attacks that judge a cell's trained model once, right after its training,
// each on the first `images` test images at radius `epsilon`. Their results
// are kept in DIR/cells/<cell>/evals.json, so that a table is rebuilt from the
// cell folders without the models (a finished cell whose evals.json lacks one
// of them needs its checkpoint.pt).
struct CellEvals {
  struct Attack {
    std::string name;  // the evaluator's (attacks/evaluator.h): clean, pgd20, transfer_fgsm, aa ...
    int64_t images = 0;
  };
  std::vector<Attack> attacks;
  double epsilon = 0;
  // transfer_* attacks craft their examples on this cell's model (trained on
  // demand, like any cell).
  std::string source_cell;
  TrainConfig source;
};

// Whether the learning rate of `resolved` (a resolved config) decays within
// the run: its last epoch's rate is below the peak. Its last epochs then move
// little whether or not training has plateaued.
bool LearningRateDecays(const TrainConfig& resolved);

// How many collapsed runs of one table cell are replaced by further seeds.
inline constexpr int kMaxReplacements = 2;

struct HarnessOptions {
  Preset preset = Preset::kCpu;
  int seeds = 1;  // runs per table cell
  std::string out_dir;
  std::string paper_tables;  // path of paper_tables.textproto
  int threads = 0;
  // Where cells train and their models are attacked (--device), and whether
  // CUDA runs graph their PGD steps (--cuda_graphs).
  c10::Device device = c10::Device(c10::kCPU);
  bool cuda_graphs = true;
  std::ostream* log = nullptr;
  // --shard=i/N: of the cells, in the order the binary visits them, this
  // process trains those whose ordinal is i modulo N and assembles no table.
  int shard = 0;
  int num_shards = 1;
  // --merge: every cell must have been finished (by the shards, their
  // DIR/cells/ gathered into one out_dir); the tables are assembled from them.
  bool merge = false;
  // --status: every cell is visited and its state logged (finished, epochs
  // trained, final attacks done, running in another process); nothing is
  // trained, attacked or written, and no table is assembled.
  bool status = false;
};

// Parses "i/N" (0 <= i < N): the --shard flag.
absl::Status ParseShard(const std::string& text, int* shard, int* num_shards);

class Harness {
 public:
  explicit Harness(HarnessOptions options);

  const HarnessOptions& options() const { return options_; }

  // True under --shard=i/N with N > 1 (and no --merge), and under --status:
  // runners visit their cells through TrainCell and skip everything else
  // (evaluations, tables).
  bool TrainingOnly() const {
    return options_.status || (options_.num_shards > 1 && !options_.merge);
  }
  // Cells visited so far, and how many this process trained or reused.
  int cells_visited() const { return cells_visited_; }
  int cells_owned() const { return cells_owned_; }
  // --status: the visited cells' totals, e.g. "15 of 82 cells finished (1
  // running); 59 of 252 epochs trained; final attacks: 90 of 300 done".
  std::string StatusSummary() const;

  // The paper's table `id`.
  absl::StatusOr<PaperTable> Paper(const std::string& id) const;

  // Trains `config` (out_dir is set to DIR/cells/<cell>) or reads back the
  // finished cell. Under --shard, another shard's cell comes back skipped;
  // under --merge, an unfinished cell is FailedPrecondition.
  // With `evals`, the cell's final attacks are run (or read back from its
  // evals.json) into CellResult::evals.
  absl::StatusOr<CellResult> TrainCell(const std::string& cell, TrainConfig config,
                                       const CellEvals* evals = nullptr) const;

  // The --seeds runs of a table cell: TrainCell for seeds config.seed() + k,
  // k < seeds, in cells `cell` (k = 0) and `cell`_seed<seed>. Each run is a
  // cell of its own for --shard and resume. A run that collapsed
  // (CellResult::collapsed; spat/trainer.h) stays in the list, without final
  // attacks, and is followed by its replacement: the next seed after the
  // cell's own (config.seed() + seeds, + seeds + 1, ...), at most
  // kMaxReplacements per cell, trained by whichever process found the
  // collapse.
  // `evals_for(i)` (may be null): the final attacks of the i-th healthy run.
  absl::StatusOr<std::vector<CellResult>> TrainCells(
      const std::string& cell, const TrainConfig& config,
      const std::function<CellEvals(int)>& evals_for = nullptr) const;

  // Writes DIR/<id>.md and DIR/<id>.json (WriteTable) and says so on the log.
  absl::Status Write(const Table& table) const;

  // Renders `gnuplot_script` (which must write to the PNG path it is given as
  // $png) into DIR/<name>.png. Missing gnuplot is a warning, not an error.
  absl::Status Plot(const std::string& name, const std::string& gnuplot_script,
                    const std::map<std::string, std::string>& data_files) const;

 private:
  // TrainCell without the --shard bookkeeping (`ordinal` for messages).
  absl::StatusOr<CellResult> TrainOwnedCell(const std::string& cell, TrainConfig config,
                                            const CellEvals* evals, int ordinal) const;
  // Runs (or reads back) `evals` on the finished run in `dir`, into r->evals.
  absl::Status EvaluateCell(const std::string& cell, const std::string& dir,
                            const TrainConfig& config, const CellEvals& evals,
                            CellResult* r) const;

  // --status: logs the state of `cell` and counts it; trains nothing.
  absl::StatusOr<CellResult> CellStatus(const std::string& cell, TrainConfig config,
                                        const CellEvals* evals) const;
  // `config` as cell `cell` trains it (out_dir, threads, device set; resolved).
  absl::StatusOr<TrainConfig> CellConfig(const std::string& dir, TrainConfig config) const;

  struct StatusCounts {
    int finished = 0, running = 0;
    int64_t epochs_done = 0, epochs = 0;
    int evals_done = 0, evals = 0;
  };

  HarnessOptions options_;
  mutable int cells_visited_ = 0;
  mutable int cells_owned_ = 0;
  mutable StatusCounts status_;
  mutable std::set<std::string> status_seen_;  // a cell two rows share counts once
};

// A trained cell's model (architecture `model`, shaped for `test`'s images)
// on the harness's device, as the attacks call it.
absl::StatusOr<std::function<at::Tensor(const at::Tensor&)>> LoadForward(
    const Harness& h, const std::string& checkpoint, const std::string& model,
    const data::Dataset& test);

// Finds benchmarks/data/paper_tables.textproto from the runfiles or the
// source tree.
std::string DefaultPaperTablesPath();

// A file of the repository (`rel` from its root): in the runfiles under
// Bazel, else relative to the working directory (the CMake build's binaries
// run from the root), else under BUILD_WORKSPACE_DIRECTORY (`bazel run`).
std::string SourceTreePath(const std::string& rel);

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_HARNESS_H_
