// The protocols behind each preset:
//
//   smoke  seconds per cell on 2 cores: MNIST, SmallCNN, 256 train / 128 test
//          images, 1 epoch, 2-step attacks. Exercises every code path (CI).
//   cpu    a reduced protocol that a 2-core machine finishes in about 45
//          minutes per table at 3 seeds (about 75 s per run): MNIST,
//          SmallCNN, 10k train images, 2 epochs, eps 0.2 with 5 steps of 0.05;
//          PGD-20 (eps/10) on 1,000 test images.
//   paper  the paper's exact protocol (CIFAR-10, ResNet-18, 100 epochs, PGD-10
//          of eps/4 at eps 8/255; PGD-20 of eps/10; MNIST for Tables 4-5), for
//          a CUDA machine: spat/presets/*_paper.textproto (PaperProtocol).
//
//   SPAT_ASSIGN_OR_RETURN(TrainConfig base, AblationBase(Preset::kCpu));
#ifndef SPAT_BENCHMARKS_PRESETS_H_
#define SPAT_BENCHMARKS_PRESETS_H_

#include <string>

#include "absl/status/statusor.h"
#include "benchmarks/harness.h"
#include "spat/config.pb.h"

namespace spat::benchmarks {

// The SPAT configuration of the ablation tables (1-3) under `preset`. The
// paper preset needs CIFAR-10 on disk: NotFound (exit 2) says where to put it.
absl::StatusOr<TrainConfig> AblationBase(Preset preset);

// The paper's protocol on `dataset` (mnist | cifar10): the file
// spat/presets/<dataset>_paper.textproto, the one `train --config=` takes, so
// that `train --config=<file> --method=M` trains the paper preset's cell of
// method M (the same run: a table reuses it, and --resume continues it).
absl::StatusOr<TrainConfig> PaperProtocol(const std::string& dataset);

// One line describing the protocol of `config`, for the Markdown.
std::string DescribeProtocol(const TrainConfig& config);

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_PRESETS_H_
