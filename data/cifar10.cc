#include "data/cifar10.h"

#include <ATen/ATen.h>

#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "data/file_bytes.h"
#include "data/npy.h"

namespace spat::data {

absl::StatusOr<LabeledImages> ReadCifar10Batch(const std::string& path) {
  SPAT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  return ParseCifar10Batch(bytes, path);
}

absl::StatusOr<LabeledImages> ParseCifar10Batch(const std::string& bytes,
                                                const std::string& path) {
  const int64_t size = static_cast<int64_t>(bytes.size());
  if (size == 0 || size % kCifarRecordBytes != 0) {
    return absl::DataLossError(absl::StrCat(
        path, ": size ", size, " is not a positive multiple of the ",
        kCifarRecordBytes, "-byte CIFAR-10 record (truncated or not CIFAR-10)"));
  }
  const int64_t n = size / kCifarRecordBytes;
  at::Tensor labels = at::empty({n}, at::kLong);
  at::Tensor raw = at::empty({n, 3, 32, 32}, at::kByte);
  int64_t* y = labels.data_ptr<int64_t>();
  uint8_t* x = raw.data_ptr<uint8_t>();
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  for (int64_t i = 0; i < n; ++i) {
    const unsigned char* rec = in + i * kCifarRecordBytes;
    if (rec[0] >= 10) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": label ", static_cast<int>(rec[0]),
                       " of record ", i, " is out of range [0, 10)"));
    }
    y[i] = rec[0];
    std::memcpy(x + i * (kCifarRecordBytes - 1), rec + 1,
                kCifarRecordBytes - 1);
  }
  return LabeledImages{raw.to(at::kFloat).div_(255.0), labels};
}

absl::StatusOr<LabeledImages> ReadCifar10(const std::string& dir, bool train) {
  std::vector<std::string> files;
  if (train) {
    for (int i = 1; i <= 5; ++i) {
      files.push_back(absl::StrCat(dir, "/data_batch_", i, ".bin"));
    }
  } else {
    files.push_back(absl::StrCat(dir, "/test_batch.bin"));
  }
  std::vector<at::Tensor> xs, ys;
  for (const std::string& f : files) {
    SPAT_ASSIGN_OR_RETURN(LabeledImages batch, ReadCifar10Batch(f));
    xs.push_back(batch.images);
    ys.push_back(batch.labels);
  }
  return LabeledImages{at::cat(xs), at::cat(ys)};
}

absl::StatusOr<LabeledImages> ReadCifar10C(const std::string& dir,
                                           const std::string& corruption,
                                           int severity) {
  if (severity < 1 || severity > 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CIFAR-10-C severity must be in 1..5, got ", severity));
  }
  const std::string image_path = absl::StrCat(dir, "/", corruption, ".npy");
  const std::string label_path = absl::StrCat(dir, "/labels.npy");
  SPAT_ASSIGN_OR_RETURN(at::Tensor images, ReadNpy(image_path));
  SPAT_ASSIGN_OR_RETURN(at::Tensor labels, ReadNpy(label_path));
  if (images.dim() != 4 || images.size(1) != 32 || images.size(2) != 32 ||
      images.size(3) != 3 || images.scalar_type() != at::kByte) {
    return absl::InvalidArgumentError(absl::StrCat(
        image_path, ": expected uint8 [N, 32, 32, 3], got ",
        at::toString(images.scalar_type()), " ",
        c10::str(images.sizes())));
  }
  if (labels.dim() != 1 || labels.size(0) != images.size(0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(label_path, ": expected [", images.size(0),
                     "] labels to match ", image_path, ", got ",
                     c10::str(labels.sizes())));
  }
  const int64_t n = images.size(0);
  if (n % 5 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        image_path, ": ", n, " images do not split into 5 severities"));
  }
  const int64_t per = n / 5;
  at::Tensor y = labels.to(at::kLong).narrow(0, (severity - 1) * per, per);
  if (y.numel() > 0 && (y.min().item<int64_t>() < 0 ||
                        y.max().item<int64_t>() >= 10)) {
    return absl::InvalidArgumentError(
        absl::StrCat(label_path, ": labels out of range [0, 10)"));
  }
  at::Tensor x = images.narrow(0, (severity - 1) * per, per)
                     .permute({0, 3, 1, 2})
                     .to(at::kFloat)
                     .div_(255.0)
                     .contiguous();
  return LabeledImages{x, y.contiguous()};
}

}  // namespace spat::data
