// Every JSON file we write is a protobuf message printed by protobuf's JSON
// printer: field names as in the .proto, indented.
//
//   SPAT_RETURN_IF_ERROR(WriteFileAtomically(path, ToJson(metrics)));
#ifndef SPAT_BASE_PROTO_JSON_H_
#define SPAT_BASE_PROTO_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>

namespace spat {

// `with_defaults`: fields left at their default values are printed too.
std::string ToJson(const google::protobuf::Message& message, bool with_defaults = true);

// Sets every unset singular scalar field of `message`, and of the message
// fields it holds, to its default value, so that ToJson(..., false) prints
// them as ToJson(..., true) would, while fields left unset elsewhere in an
// enclosing message stay absent.
void SetDefaultsExplicitly(google::protobuf::Message* message);

// The same on one line, without spaces (a JSON-lines record).
std::string ToJsonLine(const google::protobuf::Message& message);

// Values of a google::protobuf::Struct, for JSON whose keys are data (attack
// names, model labels): a number, a string, a list, a row-major matrix.
google::protobuf::Value JsonNumber(double v);
google::protobuf::Value JsonText(const std::string& v);
google::protobuf::Value JsonList(const std::vector<double>& v);
google::protobuf::Value JsonMatrix(const int64_t* data, int64_t rows, int64_t cols);
// The object under `key` in `object` (created empty if absent), to fill in.
google::protobuf::Map<std::string, google::protobuf::Value>& JsonObject(
    google::protobuf::Struct* object, const std::string& key);

}  // namespace spat

#endif  // SPAT_BASE_PROTO_JSON_H_
