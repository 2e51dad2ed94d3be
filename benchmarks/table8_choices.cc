// Table 8 (not in the paper): the implementation choices SPAT's equations
// leave open, measured. Usage:
//
//   bazel run //benchmarks:table8_choices -- --preset=smoke|cpu|paper --out_dir=DIR
//
// trains SPAT with each choice on its own (layer init, gains detached,
// NCE prototypes N(0, 0.01^2), start point unclamped) and in one combination,
// and TRADES with each init, on the MNIST protocol of Tables 4-5; writes
// DIR/table8.md and DIR/table8.json (clean, PGD-20, C&W, AutoAttack, mean ±
// sd over --seeds, and each choice's claim). Cells finished by an earlier run
// are reused.
#include "benchmarks/robustness_tables.h"
#include "benchmarks/table_main.h"

int main(int argc, char** argv) {
  return spat::benchmarks::TableMain(argc, argv, "table8",
                                     spat::benchmarks::One(spat::benchmarks::RunTable8), nullptr);
}
