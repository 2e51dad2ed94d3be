// Every trend the paper states about its tables and figures, tested on our
// runs. Each claim compares the runs (one value per seed) of table cells:
//
//   for (const Claim& c : Table1Claims(table.result())) table.AddClaim(c);
//
// and comes out as one of three outcomes (benchmarks/stats.h, alpha 0.05,
// one-sided): holds (significant in the paper's direction), contradicted
// (significant the other way), inconclusive (neither, or too few runs). A
// contradicted claim is a finding to report, not an error: the binaries
// print it and exit 0.
//
// Tests: two cells, Welch's t-test; a trend over a swept parameter,
// Spearman's rank correlation of the parameter with every run's value; "A is
// above every baseline", the intersection of the pairwise Welch tests (holds
// when every pair holds, p = the largest pairwise p; contradicted when any
// pair is contradicted).
#ifndef SPAT_BENCHMARKS_CLAIMS_H_
#define SPAT_BENCHMARKS_CLAIMS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/results.pb.h"
#include "benchmarks/stats.h"

namespace spat::benchmarks {

// A claim over a cell that has fewer healthy runs than this, because some of
// its runs collapsed (ResultCell.collapsed_runs), is not judged.
inline constexpr int kMinHealthyRuns = 3;

// A table cell a claim compares: `table` empty for the claim's own table,
// else another table's id (Table 5's claims read Table 4's FGSM).
struct ClaimCell {
  std::string table;
  std::string row;
  std::string column;
};

struct Claim {
  std::string statement;  // what the paper says, in our words
  std::string source;     // the paper's section and sentence
  std::string test;       // which test decided it
  Outcome outcome = Outcome::kInconclusive;
  double p = 1;           // one-sided p of the claimed direction
  std::string evidence;   // means, sds, n, statistic; or which cell is missing
  std::vector<ClaimCell> cells;  // what it compares
  // The same claim at half the budget (JudgeAtBothBudgets); empty if untested.
  std::string half_outcome;
  double half_p = 1;
  std::string half_evidence;
};

// A claim is judged only where more training would not change its verdict:
// `full[i]` and `half[i]` are the same claim on a table trained for `epochs`
// and on the same cells trained for `half_epochs` (each run its own
// schedule). Where both verdicts agree, the full budget's claim stands (with
// the half budget's beside it); otherwise it comes out not judged, naming
// each compared cell and how far it moved between the budgets. A claim
// already not judged at the full budget (too few healthy runs, a row under
// the floor) stays so, with its own reason. `tables`: id
// -> (full, half) results, for the cells' means ("" is the claims' own table).
std::vector<Claim> JudgeAtBothBudgets(
    const std::vector<Claim>& full, const std::vector<Claim>& half,
    const std::map<std::string, std::pair<const TableResult*, const TableResult*>>& tables,
    int epochs, int half_epochs);

// Table 1 (Sensitivity of Hyper-parameters): s raises PGD-20 and lowers
// clean accuracy (rank correlations); alpha = 0.2 and beta = 0.2 (the
// defaults) raise PGD-20 over 0, and cost less than 1 point of clean accuracy.
std::vector<Claim> Table1Claims(const TableResult& ours);
// Table 2 (Analysis of SP): every ablated row loses, in both columns; removing
// SP from L_rob costs more robustness than removing it from L_acc.
std::vector<Claim> Table2Claims(const TableResult& ours);
// Table 3 (Analysis of NCE): NCE^sp beats CE^sp, and CE^sp beats CE, in both
// columns.
std::vector<Claim> Table3Claims(const TableResult& ours);
// Tables 4-7 (White-/Black-Box Robustness): SPAT above every baseline under
// each attack (CIFAR-10 white-box C&W against MART excepted, as the paper
// says). MNIST black-box: every defense is less accurate under black-box
// FGSM than under white-box FGSM.
std::vector<Claim> WhiteBoxClaims(const TableResult& ours, bool cifar);
std::vector<Claim> BlackBoxClaims(const TableResult& ours, const TableResult& white, bool cifar);

// Table 8 (the choices the paper leaves open): its reference rows.
inline constexpr char kSpatDefault[] = "SPAT (default)";
inline constexpr char kSpatCombination[] =
    "SPAT, combination (init torch_default, gains detached, prototypes N(0, 0.01^2))";
inline constexpr char kTradesDefault[] = "TRADES (default)";
// Each other row's choice changes PGD-20 by more than 1 point against its
// method's default (two-sided: holds when the difference is significantly
// beyond +-1 point, contradicted when it is significantly within); the
// combination is more robust than SPAT's default under PGD-20, and costs
// less than 1 point of clean accuracy.
std::vector<Claim> ChoicesClaims(const TableResult& ours);

// Figure 1: SPAT more robust than natural training; a naturally trained
// model's errors concentrate on one wrong class per class (mean top-class
// share above 3x a uniform spread over the C-1 wrong classes). One value per
// seed in each vector.
std::vector<Claim> Figure1Claims(const std::vector<double>& natural_pgd,
                                 const std::vector<double>& spat_pgd,
                                 const std::vector<double>& natural_mean_share_percent,
                                 int num_classes);

// Lemma 1: successful untargeted attacks land on the hard class j* (highest
// clean cos theta_j) more than 3x as often as chance, for both models.
std::vector<Claim> HcpClaims(const std::vector<double>& natural_share_percent,
                             const std::vector<double>& spat_share_percent, int num_classes);

// "claim holds (p = 0.003): <statement>. <evidence>. [<test>; <source>]".
std::string ClaimNote(const Claim& c);

// The claim as stored in a table's JSON.
ClaimResult ToResult(const Claim& c);

// "12.34 ± 0.56 (n=3)".
std::string MeanSd(const std::vector<double>& runs);

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_CLAIMS_H_
