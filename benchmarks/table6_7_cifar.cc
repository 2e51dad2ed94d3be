// White-box and black-box robustness tables of the paper (Tables 6-7, CIFAR-10). Usage:
//
//   bazel run //benchmarks:table6_7_cifar -- --preset=smoke|cpu|paper --out_dir=DIR
//
// trains each defense and the transfer source (resumable cells), attacks
// them, and writes DIR/table6.{md,json} (white-box) and
// DIR/table7.{md,json} (black-box). Without CIFAR-10 on disk the
// cpu and paper presets say where to put it and exit 2; smoke runs on
// generated CIFAR-format data.
#include "benchmarks/robustness_tables.h"
#include "benchmarks/table_main.h"

int main(int argc, char** argv) {
  return spat::benchmarks::TableMain(argc, argv, "tables 6-7",
                                     spat::benchmarks::Two(spat::benchmarks::RunTables67), nullptr);
}
