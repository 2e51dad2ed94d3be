// Tables 1-3 of the paper: SPAT's hyper-parameter sensitivity (s, alpha,
// beta), the SP-factor ablation, and NCE vs SP-CE vs CE. Each cell trains one
// SPAT variant and reports clean and PGD-20 accuracy.
//
//   SPAT_ASSIGN_OR_RETURN(Table t, RunTable1(harness));
#ifndef SPAT_BENCHMARKS_ABLATION_TABLES_H_
#define SPAT_BENCHMARKS_ABLATION_TABLES_H_

#include "absl/status/statusor.h"
#include "benchmarks/harness.h"

namespace spat::benchmarks {

absl::StatusOr<Table> RunTable1(const Harness& h);
absl::StatusOr<Table> RunTable2(const Harness& h);
absl::StatusOr<Table> RunTable3(const Harness& h);

// Table 1's PNG: clean and PGD-20 against s, alpha and beta, ours and the
// paper's.
absl::Status PlotTable1(const Harness& h, const Table& t);

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_ABLATION_TABLES_H_
