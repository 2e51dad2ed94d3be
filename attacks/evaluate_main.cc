// Robustness evaluator:
//
//   bazel run //attacks:evaluate -- --checkpoint=run/checkpoint.pt --model=small_cnn
//       --dataset=mnist --epsilon=0.3 --n=1000
//       --attacks=clean,fgsm,pgd20,pgd100,mim20,cw,fab,square,aa --out=eval.json
//
// Writes a JSON object with one accuracy (percent) per attack name, exactly
// the keys of --attacks, plus "seconds", "settings", "confusion" (true class
// -> adversarial prediction) and "warnings". --source_checkpoint (with
// --source_model) enables transfer_* attacks.
//
// A model of the user's own: --torchscript=model.pt (torch.jit.save of a
// scripted or traced module mapping images in [0, 1] to logits) instead of
// --model/--checkpoint, --source_torchscript for a transfer source, and
// --test_images=x.npy --test_labels=y.npy for a test set of the user's own
// instead of --dataset (tools/export_torchscript.py, docs/evaluation.md).
// Exit codes: 0 done, 1 bad data or model file, 2 bad usage.
#include <ATen/Parallel.h>
#include <google/protobuf/struct.pb.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <algorithm>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "attacks/evaluator.h"
#include "base/cli.h"
#include "base/device.h"
#include "base/files.h"
#include "base/proto_json.h"
#include "data/dataset.h"
#include "base/status_macros.h"
#include "models/load_model.h"
#include "models/torchscript.h"

ABSL_FLAG(std::string, checkpoint, "", "checkpoint of the model to evaluate");
ABSL_FLAG(std::string, torchscript, "",
          "a TorchScript module (torch.jit.save) to evaluate instead of --model/--checkpoint: "
          "images [B, C, H, W] in [0, 1] -> logits [B, classes]");
ABSL_FLAG(std::string, source_torchscript, "",
          "a TorchScript module as the transfer source (instead of --source_checkpoint)");
ABSL_FLAG(std::string, test_images, "",
          ".npy float images [N, C, H, W] in [0, 1]: the test set instead of --dataset");
ABSL_FLAG(std::string, test_labels, "", ".npy integer labels [N] of --test_images");
ABSL_FLAG(int, num_classes, 0,
          "classes of a --model/--checkpoint evaluated on --test_images (0: 10, as every "
          "dataset our architectures train on); a --torchscript module says its own");
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
ABSL_FLAG(std::string, autoattack_resume, "",
          "file where AutoAttack keeps its state after each of its components; the same "
          "command run again resumes from it (it is removed when AutoAttack ends)");
ABSL_FLAG(std::string, device, "cpu", "cpu | cuda | cuda:N | auto (CUDA when present)");
ABSL_FLAG(bool, cuda_graphs, true, "CUDA graphs for the PGD-family attacks on CUDA");
ABSL_FLAG(bool, channels_last, true,
          "NHWC convolution weights (oneDNN's native layout; false: NCHW)");

namespace {

using spat::UserPath;
using spat::attacks::AttackSpec;

int Usage(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return 2;
}

// The numeric flags' ranges; a message naming the flag, or "" if all hold.
std::string CheckNumbers() {
  const double eps = absl::GetFlag(FLAGS_epsilon);
  if (!(eps > 0 && eps <= 1)) return absl::StrCat("--epsilon = ", eps, " must be in (0, 1]");
  const double step = absl::GetFlag(FLAGS_step_size);
  if (!(step >= 0) || !std::isfinite(step)) {
    return absl::StrCat("--step_size = ", step, " must be >= 0");
  }
  if (absl::GetFlag(FLAGS_n) < 1) return "--n must be >= 1";
  if (absl::GetFlag(FLAGS_num_classes) < 0) return "--num_classes must be >= 0";
  if (absl::GetFlag(FLAGS_batch_size) < 1) return "--batch_size must be >= 1";
  if (absl::GetFlag(FLAGS_apgd_iters) < 1 || absl::GetFlag(FLAGS_fab_iters) < 1 ||
      absl::GetFlag(FLAGS_square_queries) < 1) {
    return "--apgd_iters, --fab_iters and --square_queries must be >= 1";
  }
  return "";
}

// --attacks as specs; a message naming the flag on a bad name.
absl::StatusOr<std::vector<AttackSpec>> ParseSpecs() {
  std::vector<AttackSpec> specs;
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_attacks), ',', absl::SkipEmpty())) {
    absl::StatusOr<AttackSpec> s = spat::attacks::ParseAttack(std::string(name));
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("--attacks: ", s.status().message()));
    specs.push_back(*s);
  }
  if (specs.empty()) return absl::InvalidArgumentError("--attacks is empty");
  return specs;
}

spat::attacks::EvaluatorOptions OptionsFromFlags(int num_classes, c10::Device device) {
  spat::attacks::EvaluatorOptions eo;
  eo.epsilon = absl::GetFlag(FLAGS_epsilon);
  eo.step_size = absl::GetFlag(FLAGS_step_size);
  eo.batch_size = absl::GetFlag(FLAGS_batch_size);
  eo.seed = absl::GetFlag(FLAGS_seed);
  eo.num_classes = num_classes;
  eo.apgd_iters = absl::GetFlag(FLAGS_apgd_iters);
  eo.fab_iters = absl::GetFlag(FLAGS_fab_iters);
  eo.square_queries = absl::GetFlag(FLAGS_square_queries);
  eo.device = device;
  eo.cuda_graphs = absl::GetFlag(FLAGS_cuda_graphs);
  eo.autoattack_resume_file = absl::GetFlag(FLAGS_autoattack_resume);
  return eo;
}

// A model the attacks call, and how the report names it.
struct Loaded {
  spat::attacks::ForwardFn fn;
  std::string file;
  std::string kind;  // the architecture, or "torchscript"
};

// One of our architectures from a checkpoint (on `device`).
absl::StatusOr<Loaded> LoadNative(const std::string& ckpt, const spat::models::ModelSpec& spec,
                                  c10::Device device, bool channels_last) {
  SPAT_ASSIGN_OR_RETURN(std::shared_ptr<spat::models::Classifier> model,
                        spat::models::LoadModel(ckpt, spec));
  if (channels_last) spat::models::ToChannelsLast(*model);
  model->to(device);
  return Loaded{[model](const at::Tensor& t) { return model->forward(t); }, ckpt, spec.name};
}

// A TorchScript module, checked on the test images; its classes must cover
// the labels.
absl::StatusOr<Loaded> LoadScripted(const std::string& path, const spat::data::Dataset& test,
                                    c10::Device device) {
  SPAT_ASSIGN_OR_RETURN(spat::models::TorchScriptModel m,
                        spat::models::LoadTorchScript(path, test.images, device));
  if (!m.warning.empty()) std::cerr << "WARNING: " << m.warning << "\n";
  const int64_t top = test.labels.max().item<int64_t>();
  if (top >= m.num_classes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": the module has ", m.num_classes, " classes, but the labels of ", test.name,
        " go up to ", top));
  }
  return Loaded{m.forward, path, "torchscript"};
}

// The target model (--torchscript, else --model/--checkpoint) and, if asked
// for, the transfer source; exit code 1 or 2 (after a message) on failure.
int LoadModels(const spat::data::Dataset& test, c10::Device device, Loaded* target,
               Loaded* source) {
  spat::models::ModelSpec spec;
  spec.name = absl::GetFlag(FLAGS_model);
  spec.num_classes = test.num_classes;
  if (!absl::GetFlag(FLAGS_test_images).empty()) {
    // A .npy test set says only which labels it holds.
    const int classes = absl::GetFlag(FLAGS_num_classes);
    spec.num_classes = classes > 0 ? classes : 10;
    const int64_t top = test.labels.max().item<int64_t>();
    if (absl::GetFlag(FLAGS_torchscript).empty() && top >= spec.num_classes) {
      std::cerr << "error: the labels of " << test.name << " go up to " << top << ", beyond the "
                << spec.num_classes << " classes of --model (--num_classes)\n";
      return 1;
    }
  }
  spec.in_channels = test.images.size(1);
  spec.image_size = test.images.size(2);
  const std::string ts = UserPath(absl::GetFlag(FLAGS_torchscript));
  absl::StatusOr<Loaded> t =
      ts.empty() ? LoadNative(UserPath(absl::GetFlag(FLAGS_checkpoint)), spec, device,
                              absl::GetFlag(FLAGS_channels_last))
                 : LoadScripted(ts, test, device);
  if (!t.ok()) {
    std::cerr << "error: " << t.status().message() << "\n";
    return absl::StrContains(t.status().message(), "unknown model") ? 2 : 1;
  }
  *target = *t;
  const std::string source_ts = UserPath(absl::GetFlag(FLAGS_source_torchscript));
  const std::string source_ckpt = UserPath(absl::GetFlag(FLAGS_source_checkpoint));
  if (source_ts.empty() && source_ckpt.empty()) return 0;
  spec.name = absl::GetFlag(FLAGS_source_model);
  if (spec.name.empty()) spec.name = spec.in_channels == 1 ? "lenet5" : "resnet101";
  absl::StatusOr<Loaded> s = source_ts.empty() ? LoadNative(source_ckpt, spec, device, false)
                                               : LoadScripted(source_ts, test, device);
  if (!s.ok()) {
    std::cerr << "error: source model: " << s.status().message() << "\n";
    return 1;
  }
  *source = *s;
  return 0;
}

// --test_images/--test_labels, else --dataset's test split; exit code 1 or 2
// (after a message) on failure.
int LoadTestSet(spat::data::Dataset* test) {
  const std::string images = UserPath(absl::GetFlag(FLAGS_test_images));
  absl::StatusOr<spat::data::Dataset> t =
      images.empty()
          ? spat::data::LoadDataset(
                {absl::GetFlag(FLAGS_dataset), UserPath(absl::GetFlag(FLAGS_data_dir))},
                spat::data::Split::kTest)
          : spat::data::LoadNpyTestSet(images, UserPath(absl::GetFlag(FLAGS_test_labels)));
  if (!t.ok()) {
    std::cerr << "error: " << t.status().message() << "\n";
    return t.status().code() == absl::StatusCode::kInvalidArgument &&
                   absl::StrContains(t.status().message(), "unknown dataset")
               ? 2
               : 1;
  }
  *test = *std::move(t);
  return 0;
}

// What only the flags can say is wrong (exit 2): "" if nothing.
std::string CheckUsage() {
  const bool ts = !absl::GetFlag(FLAGS_torchscript).empty();
  if (ts && (!absl::GetFlag(FLAGS_checkpoint).empty() || !absl::GetFlag(FLAGS_model).empty())) {
    return "--torchscript replaces --model and --checkpoint: give one or the other";
  }
  if (!ts && absl::GetFlag(FLAGS_checkpoint).empty()) {
    return "--checkpoint is required (or --torchscript for a TorchScript module)";
  }
  if (!ts && absl::GetFlag(FLAGS_model).empty()) return "--model is required (e.g. small_cnn)";
  if (absl::GetFlag(FLAGS_test_images).empty() != absl::GetFlag(FLAGS_test_labels).empty()) {
    return "--test_images and --test_labels go together";
  }
  if (!absl::GetFlag(FLAGS_source_torchscript).empty() &&
      !absl::GetFlag(FLAGS_source_checkpoint).empty()) {
    return "--source_torchscript replaces --source_checkpoint: give one or the other";
  }
  return CheckNumbers();
}

double Round2(double v) { return std::round(v * 100.0) / 100.0; }

using spat::JsonNumber;
using spat::JsonText;

google::protobuf::Value Matrix(const at::Tensor& m) {
  const at::Tensor c = m.to(at::kLong).contiguous();
  return spat::JsonMatrix(c.data_ptr<int64_t>(), c.size(0), c.size(1));
}

// The report: one accuracy per attack name (and AutoAttack's components),
// "seconds", "settings", "confusion", "warnings".
class Report {
 public:
  void Add(const AttackSpec& s, const spat::attacks::AttackOutcome& o) {
    (*root_.mutable_fields())[s.name] = JsonNumber(Round2(o.accuracy));
    spat::JsonObject(&root_, "seconds")[s.name] = JsonNumber(Round2(o.seconds));
    spat::JsonObject(&root_, "settings")[s.name] = JsonText(o.settings);
    spat::JsonObject(&root_, "confusion")[s.name] = Matrix(o.confusion);
    if (s.kind == spat::attacks::AttackKind::kPgd && !s.transfer && !s.fgsm) {
      min_pgd_ = std::min(min_pgd_, o.accuracy);
    }
    if (s.kind == spat::attacks::AttackKind::kAutoAttack) {
      aa_ = o.accuracy;
      for (const auto& [c, acc] : o.components) {
        (*root_.mutable_fields())["aa_after_" + c] = JsonNumber(Round2(acc));
      }
    }
  }

  void Setting(const std::string& key, google::protobuf::Value v) { spat::JsonObject(&root_, "settings")[key] = v; }

  // AutoAttack far below the strongest PGD is a sign of gradient masking.
  void Finish() {
    google::protobuf::ListValue* warnings =
        (*root_.mutable_fields())["warnings"].mutable_list_value();
    if (aa_ >= 0 && min_pgd_ < 1e9 && aa_ < min_pgd_ - 5.0) {
      const std::string w = absl::StrFormat(
          "AutoAttack (%.2f%%) is more than 5 points below the strongest PGD (%.2f%%): "
          "a sign of gradient masking; trust AutoAttack's number", aa_, min_pgd_);
      std::cerr << "WARNING: " << w << "\n";
      warnings->add_values()->set_string_value(w);
    }
  }

  const google::protobuf::Struct& root() const { return root_; }

 private:
  google::protobuf::Struct root_;
  double min_pgd_ = 1e9;
  double aa_ = -1;
};


// The JSON to --out (or stdout); the exit code.
int WriteReport(const Report& report) {
  const std::string json = spat::ToJson(report.root());
  const std::string out = UserPath(absl::GetFlag(FLAGS_out));
  if (out.empty()) {
    std::cout << json;
    return 0;
  }
  if (absl::Status st = spat::WriteFileAtomically(out, json); !st.ok()) {
    std::cerr << "error: --out: " << st.message() << "\n";
    return 1;
  }
  std::cerr << "wrote " << out << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Evaluate a checkpoint against a list of attacks.");
  spat::ParseCommandLineOrExit(argc, argv);
  if (std::string bad = CheckUsage(); !bad.empty()) return Usage(bad);
  absl::StatusOr<std::vector<AttackSpec>> specs = ParseSpecs();
  if (!specs.ok()) return Usage(std::string(specs.status().message()));
  const bool needs_source = std::any_of(specs->begin(), specs->end(),
                                        [](const AttackSpec& s) { return s.transfer; });
  if (needs_source && absl::GetFlag(FLAGS_source_checkpoint).empty() &&
      absl::GetFlag(FLAGS_source_torchscript).empty()) {
    return Usage("transfer_* attacks need --source_checkpoint or --source_torchscript");
  }
  const c10::Device device = spat::DeviceFromFlagOrExit(absl::GetFlag(FLAGS_device), &std::cerr);
  const int threads = spat::ThreadsOrAllCores(absl::GetFlag(FLAGS_threads));
  at::set_num_threads(threads);
  spat::data::Dataset test;
  if (int rc = LoadTestSet(&test); rc != 0) return rc;
  const int64_t n = std::min(absl::GetFlag(FLAGS_n), test.size());
  test = spat::data::FirstN(test, n);
  Loaded model, source;
  if (int rc = LoadModels(test, device, &model, &source); rc != 0) return rc;
  const at::Tensor x = test.images.contiguous(), y = test.labels.contiguous();
  const spat::attacks::EvaluatorOptions eo =
      OptionsFromFlags(static_cast<int>(test.num_classes), device);

  std::cerr << absl::StrFormat("evaluating %s (%s) on the first %d %s test images, eps %g, %d threads\n",
                               model.file, model.kind, n, test.name, eo.epsilon, threads);
  Report report;
  for (const AttackSpec& s : *specs) {
    std::cerr << "  " << s.name << " ..." << std::flush;
    spat::attacks::AttackOutcome o =
        spat::attacks::RunAttack(s, model.fn, source.fn, x, y, eo, &std::cerr);
    std::cerr << absl::StrFormat("\r  %-14s %6.2f%%  (%.1f s)\n", s.name, o.accuracy, o.seconds);
    report.Add(s, o);
  }
  report.Setting(model.kind == "torchscript" ? "torchscript" : "checkpoint", JsonText(model.file));
  report.Setting("model", JsonText(model.kind));
  report.Setting("dataset", JsonText(test.name));
  report.Setting("n", JsonNumber(static_cast<double>(n)));
  report.Setting("epsilon", JsonNumber(eo.epsilon));
  report.Setting("seed", JsonNumber(static_cast<double>(eo.seed)));
  report.Setting("threads", JsonNumber(threads));
  report.Setting("device", JsonText(device.str()));
  report.Finish();
  return WriteReport(report);
}
