#include "data/dataset.h"

#include <ATen/ATen.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "data/cifar10.h"
#include "data/idx.h"
#include "data/npy.h"

namespace spat::data {
namespace {

const std::vector<std::string>& DigitNames() {
  static const auto* names = new std::vector<std::string>{
      "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  return *names;
}

const std::vector<std::string>& FashionNames() {
  static const auto* names = new std::vector<std::string>{
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return *names;
}

const std::vector<std::string>& CifarNames() {
  static const auto* names = new std::vector<std::string>{
      "airplane", "automobile", "bird",  "cat",  "deer",
      "dog",      "frog",       "horse", "ship", "truck"};
  return *names;
}

std::string CacheDir() {
  if (const char* d = std::getenv("SPAT_DATA_DIR"); d != nullptr && *d) {
    return d;
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : "", "/.cache/spat");
}

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// MNIST-style file: raw name first, then name.gz.
absl::StatusOr<std::string> FindIdx(const std::string& dir,
                                    const std::string& stem) {
  const std::string raw = absl::StrCat(dir, "/", stem);
  if (IsFile(raw)) return raw;
  if (IsFile(raw + ".gz")) return raw + ".gz";
  return absl::NotFoundError(absl::StrCat(
      "missing ", raw, " (or ", raw, ".gz); run tools/setup.sh or pass "
      "--data_dir"));
}

absl::StatusOr<Dataset> LoadIdxDataset(const std::string& name,
                                       const std::string& dir, Split split,
                                       const std::vector<std::string>& names) {
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  SPAT_ASSIGN_OR_RETURN(std::string images_path,
                        FindIdx(dir, prefix + "-images-idx3-ubyte"));
  SPAT_ASSIGN_OR_RETURN(std::string labels_path,
                        FindIdx(dir, prefix + "-labels-idx1-ubyte"));
  Dataset d;
  d.name = name;
  d.num_classes = 10;
  d.class_names = names;
  SPAT_ASSIGN_OR_RETURN(d.images, ReadIdxImages(images_path));
  SPAT_ASSIGN_OR_RETURN(d.labels, ReadIdxLabels(labels_path, 10));
  if (d.images.size(0) != d.labels.size(0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        images_path, " holds ", d.images.size(0), " images but ", labels_path,
        " holds ", d.labels.size(0), " labels"));
  }
  return d;
}

// A deterministic, learnable 10-class CIFAR-format set: each class is a fixed
// random 32x32x3 template; examples are template + noise, clamped to [0, 1].
Dataset SyntheticCifar(Split split) {
  const int64_t n = split == Split::kTrain ? 2000 : 500;
  at::Generator gen = at::detail::createCPUGenerator(/*seed_in=*/20230207);
  at::Tensor templates = at::rand({10, 3, 32, 32}, gen);
  at::Generator sample_gen = at::detail::createCPUGenerator(
      split == Split::kTrain ? 1 : 2);
  at::Tensor labels = at::randint(0, 10, {n}, sample_gen, at::kLong);
  at::Tensor noise = at::randn({n, 3, 32, 32}, sample_gen).mul_(0.25);
  Dataset d;
  d.name = "synthetic_cifar10";
  d.images = templates.index_select(0, labels).add_(noise).clamp_(0.0, 1.0);
  d.labels = labels;
  d.num_classes = 10;
  d.class_names = CifarNames();
  return d;
}

}  // namespace

const std::vector<std::string>& KnownDatasets() {
  static const auto* names = new std::vector<std::string>{
      "mnist", "fashion_mnist", "cifar10", "synthetic_cifar10"};
  return *names;
}

std::string DefaultDataDir(const std::string& name) {
  if (name == "mnist") return absl::StrCat(CacheDir(), "/mnist");
  if (name == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
  if (name == "cifar10") {
    return absl::StrCat(CacheDir(), "/cifar-10-batches-bin");
  }
  return "";
}

Dataset FirstN(const Dataset& d, int64_t n) {
  Dataset out = d;
  out.images = d.images.narrow(0, 0, n).contiguous();
  out.labels = d.labels.narrow(0, 0, n).contiguous();
  return out;
}

absl::StatusOr<Dataset> LoadDataset(const DatasetSpec& spec, Split split,
                                    int64_t subset) {
  if (subset < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("subset size must be >= 0, got ", subset));
  }
  const std::string dir =
      spec.data_dir.empty() ? DefaultDataDir(spec.name) : spec.data_dir;
  absl::StatusOr<Dataset> d;
  if (spec.name == "synthetic_cifar10") {
    d = SyntheticCifar(split);
  } else if (spec.name == "mnist" || spec.name == "fashion_mnist" ||
             spec.name == "cifar10") {
    if (!IsDir(dir)) {
      return absl::NotFoundError(absl::StrCat(
          "data directory ", dir, " for dataset '", spec.name,
          "' does not exist; ",
          spec.name == "cifar10"
              ? "download the CIFAR-10 binary version and unpack "
                "cifar-10-batches-bin there, or pass --data_dir"
              : "run tools/setup.sh or pass --data_dir"));
    }
    if (spec.name == "cifar10") {
      SPAT_ASSIGN_OR_RETURN(LabeledImages li,
                            ReadCifar10(dir, split == Split::kTrain));
      Dataset c;
      c.name = spec.name;
      c.images = li.images;
      c.labels = li.labels;
      c.num_classes = 10;
      c.class_names = CifarNames();
      d = std::move(c);
    } else {
      d = LoadIdxDataset(spec.name, dir, split,
                         spec.name == "mnist" ? DigitNames() : FashionNames());
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown dataset '", spec.name, "'; known: ",
                     absl::StrJoin(KnownDatasets(), ", ")));
  }
  if (!d.ok()) return d.status();
  if (subset > 0) {
    if (subset > d->size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "subset of ", subset, " requested but the ", spec.name, " ",
          split == Split::kTrain ? "train" : "test", " split has only ",
          d->size(), " examples"));
    }
    return FirstN(*d, subset);
  }
  return d;
}

absl::StatusOr<Dataset> LoadNpyTestSet(const std::string& images_path,
                                       const std::string& labels_path) {
  for (const std::string& p : {images_path, labels_path}) {
    struct stat st;
    if (stat(p.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat(p, ": no such file"));
  }
  SPAT_ASSIGN_OR_RETURN(at::Tensor x, ReadNpy(images_path));
  SPAT_ASSIGN_OR_RETURN(at::Tensor y, ReadNpy(labels_path));
  if (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble) {
    return absl::InvalidArgumentError(absl::StrCat(
        images_path, ": images are ", c10::toString(x.scalar_type()),
        "; expected float32 or float64 in [0, 1] (divide uint8 pixels by 255)"));
  }
  if (x.dim() != 4 || x.size(0) < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        images_path, ": images of shape ", c10::str(x.sizes()),
        "; expected [N, C, H, W] with N >= 1 (channels first)"));
  }
  x = x.to(at::kFloat).contiguous();
  if (!x.isfinite().all().item<bool>() || x.min().item<double>() < 0 ||
      x.max().item<double>() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        images_path, ": values from ", x.min().item<double>(), " to ", x.max().item<double>(),
        "; images must be finite and in [0, 1] (the threat model's radius is in that space; "
        "normalization belongs inside the model)"));
  }
  if (!at::isIntegralType(y.scalar_type(), /*includeBool=*/false) || y.dim() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        labels_path, ": labels of shape ", c10::str(y.sizes()), " (",
        c10::toString(y.scalar_type()), "); expected integer class indices [N]"));
  }
  if (y.size(0) != x.size(0)) {
    return absl::InvalidArgumentError(absl::StrCat(labels_path, ": ", y.size(0),
                                                   " labels for the ", x.size(0), " images of ",
                                                   images_path));
  }
  y = y.to(at::kLong).contiguous();
  if (y.min().item<int64_t>() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(labels_path, ": a label is ", y.min().item<int64_t>(), "; labels are >= 0"));
  }
  Dataset d;
  d.name = absl::StrCat("npy:", images_path);
  d.images = x;
  d.labels = y;
  d.num_classes = std::max<int64_t>(2, y.max().item<int64_t>() + 1);
  return d;
}

}  // namespace spat::data
