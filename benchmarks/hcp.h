// Figure 1 and the hard-class-pair analysis (Lemma 1 made measurable).
//
// figure1_confusion: where untargeted PGD-20 sends each class, for a
//   naturally trained and a SPAT-trained model: row-normalized heatmaps of
//   the adversarial errors, and each class's share of errors that land on
//   its single most frequent wrong class.
// hcp_analysis: for each correctly classified test point, the hard class
//   j* = argmax_{j != y} cos(theta_j) on the clean input, and how often a
//   successful untargeted PGD-20 lands exactly on j* (chance: 1/(C-1)); plus
//   the class-prototype norms v_j (the appendix: nearly equal).
//
// Both train the same two cells (natural, SPAT), so running one reuses the
// other's models.
#ifndef SPAT_BENCHMARKS_HCP_H_
#define SPAT_BENCHMARKS_HCP_H_

#include <string>

#include "absl/status/status.h"
#include "benchmarks/harness.h"

namespace spat::benchmarks {

// Writes DIR/figure1.{png,json,md}.
absl::Status RunFigure1(const Harness& h);

// Writes DIR/hcp.{json,md}.
absl::Status RunHcpAnalysis(const Harness& h);

// Figure 2: t-SNE of the penultimate embeddings of up to 1,000 test images,
// natural vs SPAT. Writes DIR/figure2.{png,json,md}.
absl::Status RunFigure2(const Harness& h);

// main() of both binaries: --preset, --out_dir, --threads.
int FigureMain(int argc, char** argv, const std::string& id,
               absl::Status (*run)(const Harness&));

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_HCP_H_
