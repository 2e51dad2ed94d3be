// Tables 4-7 of the paper: white-box and black-box robustness of each
// defense. Every method is trained once (a resumable cell); the naturally
// trained source model (LeNet-5 on MNIST, ResNet-101 on CIFAR-10) is a cell
// too; then each trained model meets each attack through the evaluator.
//
//   SPAT_ASSIGN_OR_RETURN(auto tables, RunTables45(harness));  // {white, black}
#ifndef SPAT_BENCHMARKS_ROBUSTNESS_TABLES_H_
#define SPAT_BENCHMARKS_ROBUSTNESS_TABLES_H_

#include <utility>

#include "absl/status/statusor.h"
#include "benchmarks/harness.h"
#include "spat/config.pb.h"

namespace spat::benchmarks {

// Tables 4 (white-box) and 5 (black-box) on MNIST.
absl::StatusOr<std::pair<Table, Table>> RunTables45(const Harness& h);

// The configuration of Tables 4-5's cell of `method` under preset `p` (out_dir
// unset). Under the paper preset it is `train --config=spat/presets/
// mnist_paper.textproto --method=<method>`: a run trained that way (e.g. on a
// GPU) is the cell, reused by the table.
absl::StatusOr<TrainConfig> Tables45CellConfig(Preset p, const std::string& method);

// Tables 6 (white-box) and 7 (black-box) on CIFAR-10 (synthetic CIFAR-format
// data in the smoke preset; the others need CIFAR-10 on disk).
absl::StatusOr<std::pair<Table, Table>> RunTables67(const Harness& h);

// Table 8 (not in the paper): the implementation choices the paper leaves
// open, each on its own and in one combination, for SPAT (and TRADES where a
// choice applies), on the MNIST protocol of Tables 4-5: clean, PGD-20, C&W,
// AutoAttack. Claims (benchmarks/claims.h, ChoicesClaims) test each choice.
absl::StatusOr<Table> RunTable8(const Harness& h);

// The cpu preset runs AutoAttack on this many of the test images (its
// standard budgets cost minutes per model on 2 cores).
inline constexpr int64_t kTable8AutoAttackImages = 200;

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_ROBUSTNESS_TABLES_H_
