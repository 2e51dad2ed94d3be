// Table 2 of the paper. Usage:
//
//   bazel run //benchmarks:table2_sp_ablation -- --preset=smoke|cpu|paper --out_dir=DIR
//
// writes DIR/table2.md (ours beside the paper's), DIR/table2.json.. Cells finished by an earlier run are reused.
#include "benchmarks/ablation_tables.h"
#include "benchmarks/table_main.h"

int main(int argc, char** argv) {
  return spat::benchmarks::TableMain(argc, argv, "table2", spat::benchmarks::One(spat::benchmarks::RunTable2),
                                     nullptr);
}
