// libFuzzer target: arbitrary bytes as a Person record (the docs/schema.md sample).
// Views, lookups, Verify, Materialize and RenderJson must never crash, hang
// or read out of bounds; a record that verifies must render and re-pack.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_schema.h"
#include "mapfs/record.h"

namespace {

void Touch(const mapfs::View& v, int depth) {
  using mapfs::TypeKind;
  if (v.is_null() || depth > 6) return;
  switch (v.kind()) {
    case TypeKind::kStruct:
      for (size_t i = 0; i < v.size(); ++i) {
        auto f = v.Field(static_cast<int>(i));
        if (f.ok()) Touch(*f, depth + 1);
      }
      break;
    case TypeKind::kList: case TypeKind::kTuple: case TypeKind::kFrozenSet:
      for (size_t i = 0; i < v.size() && i < 8; ++i) {
        auto e = v.At(i);
        if (e.ok()) Touch(*e, depth + 1);
      }
      if (v.kind() == TypeKind::kFrozenSet) (void)v.Contains(int64_t{3});
      break;
    case TypeKind::kDict:
      (void)v.Find(std::string_view("a"));
      for (size_t i = 0; i < v.size() && i < 8; ++i) {
        auto k = v.KeyAt(i);
        auto val = v.ValueAt(i);
        if (k.ok()) Touch(*k, depth + 1);
        if (val.ok()) Touch(*val, depth + 1);
      }
      break;
    case TypeKind::kDecimal: (void)v.as_decimal(); break;
    case TypeKind::kNdArray:
      if (v.ndim() > 0) (void)v.dim(v.ndim() - 1);
      break;
    default: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const mapfs::Schema& schema = mapfs::fuzzing::PersonSchema();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto rec = mapfs::ViewRecord(schema, 1, bytes);
  if (!rec.ok()) return 0;
  Touch(*rec, 0);
  std::string json;
  if (!mapfs::RenderJson(*rec, &json).ok()) return 0;
  auto value = mapfs::Materialize(*rec);
  if (!value.ok()) std::abort();  // verified records must materialize
  // A verified record re-packs (it may differ in bytes: sharing, set modes).
  auto repacked = mapfs::Pack(schema, 1, *value);
  if (!repacked.ok()) std::abort();
  return 0;
}
