// Robustness evaluator:
//
//   bazel run //attacks:evaluate -- --checkpoint=run/checkpoint.pt --model=small_cnn
//       --dataset=mnist --epsilon=0.3 --n=1000
//       --attacks=clean,fgsm,pgd20,pgd100,mim20,cw,fab,square,aa --out=eval.json
//
// Writes a JSON object with one accuracy (percent) per attack name, exactly
// the keys of --attacks, plus "seconds", "settings", "confusion" (true class
// -> adversarial prediction) and "warnings". --source_checkpoint (with
// --source_model) enables transfer_* attacks. Exit codes: 0 done, 1 bad data,
// 2 bad usage.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "attacks/evaluator.h"
#include "base/cli.h"
#include "base/device.h"
#include "base/files.h"
#include "data/dataset.h"
#include "models/load_model.h"

ABSL_FLAG(std::string, checkpoint, "", "checkpoint of the model to evaluate");
ABSL_FLAG(std::string, model, "", "architecture of --checkpoint (e.g. small_cnn)");
ABSL_FLAG(std::string, dataset, "mnist", "mnist | fashion_mnist | cifar10 | synthetic_cifar10");
ABSL_FLAG(std::string, data_dir, "", "dataset directory (default: the setup location)");
ABSL_FLAG(double, epsilon, 0.3, "l-inf radius in [0, 1] pixel space");
ABSL_FLAG(double, step_size, 0.0, "PGD/MIM/C&W step (0: epsilon/10)");
ABSL_FLAG(int64_t, n, 1000, "evaluate the first N test images");
ABSL_FLAG(std::string, attacks, "clean,fgsm,pgd20,pgd100,mim20,cw,fab,square,aa",
          "comma-separated attack names");
ABSL_FLAG(std::string, out, "", "JSON output file (optional)");
ABSL_FLAG(std::string, source_checkpoint, "", "source model for transfer_* attacks");
ABSL_FLAG(std::string, source_model, "", "architecture of --source_checkpoint "
          "(default: lenet5 for MNIST-like data, resnet101 otherwise)");
ABSL_FLAG(int64_t, batch_size, spat::attacks::kAttackBatchSize,
          "points attacked at once (the default was fastest on the 2-core machine)");
ABSL_FLAG(uint64_t, seed, 0, "random seed");
ABSL_FLAG(int, threads, 0, "intra-op threads (0: all cores)");
ABSL_FLAG(int, apgd_iters, 100, "APGD iterations (reference: 100)");
ABSL_FLAG(int, fab_iters, 100, "FAB iterations (reference: 100)");
ABSL_FLAG(int, square_queries, 5000, "Square queries (reference: 5000)");
ABSL_FLAG(std::string, device, "cpu", "cpu | cuda | cuda:N | auto (CUDA when present)");
ABSL_FLAG(bool, cuda_graphs, true, "CUDA graphs for the PGD-family attacks on CUDA");
ABSL_FLAG(bool, channels_last, true,
          "NHWC convolution weights (oneDNN's native layout; false: NCHW)");

namespace {

std::string UserPath(const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
  return wd != nullptr && *wd ? absl::StrCat(wd, "/", p) : p;
}

int Usage(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return 2;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Evaluate a checkpoint against a list of attacks.");
  std::vector<char*> rest = spat::ParseCommandLineOrExit(argc, argv);
  if (rest.size() > 1) return Usage(absl::StrCat("unexpected argument '", rest[1], "'"));
  const std::string ckpt = UserPath(absl::GetFlag(FLAGS_checkpoint));
  if (ckpt.empty()) return Usage("--checkpoint is required");
  if (absl::GetFlag(FLAGS_model).empty()) return Usage("--model is required (e.g. small_cnn)");
  const double eps = absl::GetFlag(FLAGS_epsilon);
  if (!(eps > 0 && eps <= 1)) {
    return Usage(absl::StrCat("--epsilon = ", eps, " must be in (0, 1]"));
  }
  const double step = absl::GetFlag(FLAGS_step_size);
  if (!(step >= 0) || !std::isfinite(step)) {
    return Usage(absl::StrCat("--step_size = ", step, " must be >= 0"));
  }
  if (absl::GetFlag(FLAGS_n) < 1) return Usage("--n must be >= 1");
  if (absl::GetFlag(FLAGS_batch_size) < 1) return Usage("--batch_size must be >= 1");
  if (absl::GetFlag(FLAGS_apgd_iters) < 1 || absl::GetFlag(FLAGS_fab_iters) < 1 ||
      absl::GetFlag(FLAGS_square_queries) < 1) {
    return Usage("--apgd_iters, --fab_iters and --square_queries must be >= 1");
  }
  std::vector<spat::attacks::AttackSpec> specs;
  bool needs_source = false;
  for (absl::string_view name_view :
       absl::StrSplit(absl::GetFlag(FLAGS_attacks), ',', absl::SkipEmpty())) {
    const std::string name(name_view);
    absl::StatusOr<spat::attacks::AttackSpec> s = spat::attacks::ParseAttack(name);
    if (!s.ok()) return Usage(absl::StrCat("--attacks: ", s.status().message()));
    needs_source |= s->transfer;
    specs.push_back(*s);
  }
  if (specs.empty()) return Usage("--attacks is empty");
  const std::string source_ckpt = UserPath(absl::GetFlag(FLAGS_source_checkpoint));
  if (needs_source && source_ckpt.empty()) {
    return Usage("transfer_* attacks need --source_checkpoint");
  }
  const c10::Device device = spat::DeviceFromFlagOrExit(absl::GetFlag(FLAGS_device), &std::cerr);
  const int threads = absl::GetFlag(FLAGS_threads) > 0
                          ? absl::GetFlag(FLAGS_threads)
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);

  absl::StatusOr<spat::data::Dataset> test = spat::data::LoadDataset(
      {absl::GetFlag(FLAGS_dataset), UserPath(absl::GetFlag(FLAGS_data_dir))},
      spat::data::Split::kTest);
  if (!test.ok()) {
    std::cerr << "error: " << test.status().message() << "\n";
    return test.status().code() == absl::StatusCode::kInvalidArgument &&
                   absl::StrContains(test.status().message(), "unknown dataset")
               ? 2
               : 1;
  }
  const int64_t n = std::min(absl::GetFlag(FLAGS_n), test->size());
  at::Tensor x = test->images.narrow(0, 0, n).contiguous();
  at::Tensor y = test->labels.narrow(0, 0, n).contiguous();

  spat::models::ModelSpec spec;
  spec.name = absl::GetFlag(FLAGS_model);
  spec.num_classes = test->num_classes;
  spec.in_channels = x.size(1);
  spec.image_size = x.size(2);
  auto model = spat::models::LoadModel(ckpt, spec);
  if (!model.ok()) {
    std::cerr << "error: " << model.status().message() << "\n";
    return absl::StrContains(model.status().message(), "unknown model") ? 2 : 1;
  }
  if (absl::GetFlag(FLAGS_channels_last)) spat::models::ToChannelsLast(**model);
  (*model)->to(device);
  std::shared_ptr<spat::models::Classifier> source;
  if (!source_ckpt.empty()) {
    spat::models::ModelSpec sspec = spec;
    sspec.name = absl::GetFlag(FLAGS_source_model);
    if (sspec.name.empty()) sspec.name = x.size(1) == 1 ? "lenet5" : "resnet101";
    auto s = spat::models::LoadModel(source_ckpt, sspec);
    if (!s.ok()) {
      std::cerr << "error: source model: " << s.status().message() << "\n";
      return 1;
    }
    source = *s;
    source->to(device);
  }
  spat::attacks::ForwardFn target_fn = [m = *model](const at::Tensor& t) { return m->forward(t); };
  spat::attacks::ForwardFn source_fn;
  if (source) source_fn = [source](const at::Tensor& t) { return source->forward(t); };

  spat::attacks::EvaluatorOptions eo;
  eo.epsilon = eps;
  eo.step_size = step;
  eo.batch_size = absl::GetFlag(FLAGS_batch_size);
  eo.seed = absl::GetFlag(FLAGS_seed);
  eo.num_classes = static_cast<int>(test->num_classes);
  eo.apgd_iters = absl::GetFlag(FLAGS_apgd_iters);
  eo.fab_iters = absl::GetFlag(FLAGS_fab_iters);
  eo.square_queries = absl::GetFlag(FLAGS_square_queries);
  eo.device = device;
  eo.cuda_graphs = absl::GetFlag(FLAGS_cuda_graphs);

  std::cerr << absl::StrFormat("evaluating %s (%s) on the first %d %s test images, eps %g, %d threads\n",
                               ckpt, spec.name, n, test->name, eps, threads);
  std::vector<std::string> acc_json, sec_json, set_json, conf_json, warnings;
  double min_pgd = 1e9, aa = -1;
  for (const auto& s : specs) {
    std::cerr << "  " << s.name << " ..." << std::flush;
    spat::attacks::AttackOutcome o =
        spat::attacks::RunAttack(s, target_fn, source_fn, x, y, eo, &std::cerr);
    std::cerr << absl::StrFormat("\r  %-14s %6.2f%%  (%.1f s)\n", s.name, o.accuracy, o.seconds);
    acc_json.push_back(absl::StrFormat("%s: %.2f", Quote(s.name), o.accuracy));
    sec_json.push_back(absl::StrFormat("%s: %.2f", Quote(s.name), o.seconds));
    set_json.push_back(absl::StrCat(Quote(s.name), ": ", Quote(o.settings)));
    std::vector<std::string> rows;
    for (int64_t r = 0; r < o.confusion.size(0); ++r) {
      std::vector<std::string> cells;
      for (int64_t c = 0; c < o.confusion.size(1); ++c) {
        cells.push_back(absl::StrCat(o.confusion[r][c].item<int64_t>()));
      }
      rows.push_back("[" + absl::StrJoin(cells, ", ") + "]");
    }
    conf_json.push_back(absl::StrCat(Quote(s.name), ": [", absl::StrJoin(rows, ", "), "]"));
    if (s.kind == spat::attacks::AttackKind::kPgd && !s.transfer && !s.fgsm) {
      min_pgd = std::min(min_pgd, o.accuracy);
    }
    if (s.kind == spat::attacks::AttackKind::kAutoAttack) {
      aa = o.accuracy;
      for (const auto& [c, acc] : o.components) {
        acc_json.push_back(absl::StrFormat("%s: %.2f", Quote("aa_after_" + c), acc));
      }
    }
  }
  if (aa >= 0 && min_pgd < 1e9 && aa < min_pgd - 5.0) {
    warnings.push_back(absl::StrFormat(
        "AutoAttack (%.2f%%) is more than 5 points below the strongest PGD (%.2f%%): "
        "a sign of gradient masking; trust AutoAttack's number", aa, min_pgd));
    std::cerr << "WARNING: " << warnings.back() << "\n";
  }
  std::vector<std::string> quoted_warnings;
  for (const auto& w : warnings) quoted_warnings.push_back(Quote(w));
  const std::string json = absl::StrCat(
      "{\n  ", absl::StrJoin(acc_json, ",\n  "), ",\n  \"seconds\": {",
      absl::StrJoin(sec_json, ", "), "},\n  \"settings\": {\n    ",
      absl::StrJoin(set_json, ",\n    "), ",\n    \"checkpoint\": ", Quote(ckpt),
      ",\n    \"model\": ", Quote(spec.name), ",\n    \"dataset\": ", Quote(test->name),
      ",\n    \"n\": ", n, ",\n    \"epsilon\": ", eps, ",\n    \"seed\": ", eo.seed,
      ",\n    \"threads\": ", threads, ",\n    \"device\": ", Quote(device.str()), "\n  },\n  \"confusion\": {\n    ",
      absl::StrJoin(conf_json, ",\n    "), "\n  },\n  \"warnings\": [",
      absl::StrJoin(quoted_warnings, ", "), "]\n}\n");
  const std::string out = UserPath(absl::GetFlag(FLAGS_out));
  if (!out.empty()) {
    absl::Status st = spat::WriteFileAtomically(out, json);
    if (!st.ok()) {
      std::cerr << "error: --out: " << st.message() << "\n";
      return 1;
    }
    std::cerr << "wrote " << out << "\n";
  } else {
    std::cout << json;
  }
  return 0;
}
