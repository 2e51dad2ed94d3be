// Table 1 of the paper. Usage:
//
//   bazel run //benchmarks:table1_sweep -- --preset=smoke|cpu|paper --out_dir=DIR
//
// writes DIR/table1.md (ours beside the paper's), DIR/table1.json and
// DIR/table1.png. Cells finished by an earlier run are reused.
#include "benchmarks/ablation_tables.h"
#include "benchmarks/table_main.h"

int main(int argc, char** argv) {
  return spat::benchmarks::TableMain(argc, argv, "table1", spat::benchmarks::One(spat::benchmarks::RunTable1),
                                     spat::benchmarks::PlotTable1);
}
