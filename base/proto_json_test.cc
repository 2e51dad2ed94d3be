#include "base/proto_json.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "gtest/gtest.h"

namespace spat {
namespace {

TEST(ProtoJson, PrintsFieldsIndentedAndEscapesStrings) {
  google::protobuf::Struct s;
  (*s.mutable_fields())["pgd20"].set_number_value(48.25);
  (*s.mutable_fields())["note"].set_string_value("a \"quoted\" \\ word");
  const std::string json = ToJson(s);
  EXPECT_NE(json.find("\"pgd20\": 48.25"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("a \"quoted\" \\ word")"), std::string::npos) << json;
  EXPECT_NE(json.find('\n'), std::string::npos);
}

TEST(ProtoJson, StructValues) {
  google::protobuf::Struct s;
  const int64_t m[] = {1, 2, 3, 4, 5, 6};
  (*s.mutable_fields())["m"] = JsonMatrix(m, 2, 3);
  (*s.mutable_fields())["l"] = JsonList({0.5, 2});
  (*s.mutable_fields())["t"] = JsonText("x");
  (*s.mutable_fields())["n"] = JsonNumber(7);
  JsonObject(&s, "o")["k"] = JsonNumber(1);
  JsonObject(&s, "o")["j"] = JsonNumber(2);  // the same object, not a new one
  const std::string json = ToJsonLine(s);  // keys in any order
  for (const char* part : {R"("l":[0.5,2])", R"("m":[[1,2,3],[4,5,6]])", R"("n":7)",
                           R"("t":"x")", R"("j":2)", R"("k":1)"}) {
    EXPECT_NE(json.find(part), std::string::npos) << part << " in " << json;
  }
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

// What metrics.json relies on: a message whose defaults were set explicitly
// prints without always_print_primitive_fields the values it prints with it
// (in any order; empty lists aside), while a message field nobody set stays
// absent.
TEST(ProtoJson, DefaultsSetExplicitlyPrintAsWithDefaults) {
  google::protobuf::FileOptions o;
  o.set_java_package("x");
  auto parsed = [](const std::string& json) {
    google::protobuf::Struct s;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
    return s;
  };
  google::protobuf::Struct with_defaults = parsed(ToJson(o, /*with_defaults=*/true));
  with_defaults.mutable_fields()->erase("uninterpreted_option");  // []
  EXPECT_EQ(ToJson(o, false).find("optimize_for"), std::string::npos);
  SetDefaultsExplicitly(&o);
  EXPECT_TRUE(o.has_optimize_for());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed(ToJson(o, false)),
                                                                 with_defaults))
      << ToJson(o, false);
  google::protobuf::FieldDescriptorProto f;
  f.set_name("a");
  SetDefaultsExplicitly(&f);
  EXPECT_TRUE(f.has_number());
  EXPECT_FALSE(f.has_options());
}

}  // namespace
}  // namespace spat
