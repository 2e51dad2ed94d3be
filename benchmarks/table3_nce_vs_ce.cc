// Table 3 of the paper. Usage:
//
//   bazel run //benchmarks:table3_nce_vs_ce -- --preset=smoke|cpu|paper --out_dir=DIR
//
// writes DIR/table3.md (ours beside the paper's), DIR/table3.json.. Cells finished by an earlier run are reused.
#include "benchmarks/ablation_tables.h"
#include "benchmarks/table_main.h"

int main(int argc, char** argv) {
  return spat::benchmarks::TableMain(argc, argv, "table3", spat::benchmarks::One(spat::benchmarks::RunTable3),
                                     nullptr);
}
