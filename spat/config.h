// Parsing and validation of TrainConfig (spat/config.proto) from protobuf
// text format. Validation rejects nonsense before any work starts, with a
// message that names the field and its allowed range.
//
//   SPAT_ASSIGN_OR_RETURN(TrainConfig c, LoadTrainConfig("run.textproto"));
//   SPAT_RETURN_IF_ERROR(ValidateTrainConfig(c));
#ifndef SPAT_SPAT_CONFIG_H_
#define SPAT_SPAT_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spat/config.pb.h"

namespace spat {

// Training methods the schema knows.
const std::vector<std::string>& KnownMethods();
// Attack names, attack losses and norms the schema knows.
const std::vector<std::string>& KnownAttacks();
const std::vector<std::string>& KnownAttackLosses();
const std::vector<std::string>& KnownNorms();

// Parses text format; errors carry `name` and the line:column.
absl::StatusOr<TrainConfig> ParseTrainConfig(const std::string& text,
                                             const std::string& name);

// Reads and parses a .textproto file.
absl::StatusOr<TrainConfig> LoadTrainConfig(const std::string& path);

// `prefix` names the message in errors (e.g. "train_attack").
absl::Status ValidateAttackConfig(const AttackConfig& a,
                                  const std::string& prefix);

// Checks every field: names known, numbers finite and in range.
absl::Status ValidateTrainConfig(const TrainConfig& c);

}  // namespace spat

#endif  // SPAT_SPAT_CONFIG_H_
