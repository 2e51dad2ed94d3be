// White-box and black-box robustness tables of the paper (Tables 4-5, MNIST). Usage:
//
//   bazel run //benchmarks:table4_5_mnist -- --preset=smoke|cpu|paper --out_dir=DIR
//
// trains each defense and the transfer source (resumable cells), attacks
// them, and writes DIR/table4.{md,json} (white-box) and
// DIR/table5.{md,json} (black-box).
#include "benchmarks/robustness_tables.h"
#include "benchmarks/table_main.h"

int main(int argc, char** argv) {
  return spat::benchmarks::TableMain(argc, argv, "tables 4-5",
                                     spat::benchmarks::Two(spat::benchmarks::RunTables45), nullptr);
}
