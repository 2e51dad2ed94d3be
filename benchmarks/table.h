// A table's results as data: what a table cell's runs gave (CellResult), and
// the Table that collects them beside the paper's numbers, with the cells'
// learning curves, the half-budget runs and the claims. Rendering it
// (Markdown, JSON, figures) is benchmarks/table_render.h's job.
//
//   Table t(paper, Preset::kLong, protocol);
//   t.Add("SPAT", "Clean", Clean(runs), Seconds(runs), &runs);
//   t.AddClaims(claims);
//   RenderMarkdown(t.result());
#ifndef SPAT_BENCHMARKS_TABLE_H_
#define SPAT_BENCHMARKS_TABLE_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/claims.h"
#include "benchmarks/results.pb.h"

namespace spat::benchmarks {

enum class Preset { kSmoke, kCpu, kPaper, kLong, kEps03 };

// The preset's name, as --preset takes it and a table records it.
std::string PresetName(Preset p);

// The presets whose tables are kept in the repository (results/<name>) and
// whose claims are judged at two budgets: long and eps03.
bool JudgedAtTwoBudgets(Preset p);
bool JudgedAtTwoBudgets(const std::string& preset_name);

struct CellResult {
  double clean = 0;
  double pgd = 0;
  double seconds = 0;
  bool reused = false;
  // --shard: another shard trains this cell; nothing else is set.
  bool skipped = false;
  std::string checkpoint;  // path of the trained model
  // Its learning curve: clean and PGD-20 test accuracy (percent) after each
  // evaluated epoch (curve_epochs, 1-based).
  std::vector<int> curve_epochs;
  std::vector<double> clean_curve;
  std::vector<double> pgd_curve;
  // Whether the learning rate decays within the run (LearningRateDecays).
  bool lr_decays = false;
  // The cell's final attacks (CellEvals), by attack name: accuracy in percent.
  std::map<std::string, double> evals;
  // Nonzero: the run collapsed or never started (spat/trainer.h), seen after
  // this epoch. Its numbers are left out of every mean (Clean, Pgd, Evals)
  // and counted in the table cell's collapsed_runs.
  int collapsed_epoch = 0;
  std::string collapse_reason;
  bool collapsed() const { return collapsed_epoch > 0; }
};

// How many of `runs` collapsed, and those that did not (in seed order).
int CollapsedRuns(const std::vector<CellResult>& runs);
std::vector<CellResult> Healthy(const std::vector<CellResult>& runs);

// The healthy runs' clean / PGD-20 accuracies in seed order (a collapsed
// run has none), and the seconds of every run, collapsed ones included.
std::vector<double> Clean(const std::vector<CellResult>& runs);
std::vector<double> Pgd(const std::vector<CellResult>& runs);
// The healthy runs' results of one of their final attacks
// (CellResult::evals); 0 for a run without it (a cell another shard trains,
// under --shard).
std::vector<double> Evals(const std::vector<CellResult>& runs, const std::string& attack);
double Seconds(const std::vector<CellResult>& runs);

// A cell's training has converged when its last epoch moved neither the mean
// clean nor the mean PGD-20 accuracy over its runs by more than this many
// points. A single epoch, or a last evaluation whose epoch before was not
// evaluated, has nothing to compare with: not converged.
inline constexpr double kConvergedWithin = 1.0;

// A table under construction: our numbers, with the paper's looked up by
// (row, column) from benchmarks/data/paper_tables.textproto.
class Table {
 public:
  Table(const PaperTable& paper, Preset preset, std::string protocol);

  // One value per run (seed); the cell shows their mean ± sd. `trained`: the
  // runs behind the values; their curves are kept and decide whether the
  // cell is converged (a cell that is not is marked in the Markdown, and the
  // claims on it are not judged), and the collapsed ones are counted.
  void Add(const std::string& row, const std::string& column, const std::vector<double>& runs,
           double seconds = 0, const std::vector<CellResult>* trained = nullptr);
  void Note(const std::string& note) { result_.add_notes(note); }
  // The long preset's verdict check: the cell (row, column), already added,
  // also trained at half the budget, one value per healthy run, and how many
  // of its runs collapsed.
  void AddHalfBudget(const std::string& row, const std::string& column,
                     const std::vector<double>& runs, int collapsed = 0);
  void SetBudgets(int epochs, int half_epochs);
  // The regime the paper's models are in, and the floor a cell must reach
  // for a claim on it to be judged (percent, for the Clean and PGD-20
  // columns). A row under the floor in either column is marked in every
  // column and no claim on it is judged; one under the regime is marked.
  // The rows' Clean and PGD-20 are read in `from` (another table, e.g. the
  // white-box one for the black-box table), else in this one. Call after
  // every cell is added.
  void ApplyFloors(double regime_clean, double regime_pgd, double floor_clean,
                   double floor_pgd, const TableResult* from = nullptr);
  // Records the claims; the Markdown lists them with their outcomes. A
  // contradicted claim is reported, not an error.
  void AddClaims(const std::vector<Claim>& claims);
  const TableResult& result() const { return result_; }

 private:
  std::map<std::pair<std::string, std::string>, double> paper_;
  TableResult result_;
};

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_TABLE_H_
