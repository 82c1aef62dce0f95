// The children of value directories (docs/layout.md, "The tree"): a struct's present fields,
// a list's or tuple's elements by index, a dict's values by key, a
// frozenset's elements by their own text; and finding one by name.
#include <algorithm>
#include <cstring>

#include "content.h"
#include "name_escape.h"
#include "tree_internal.h"

namespace mapfs::fs {

namespace {

// Dict keys and set elements, in stored (sorted) order.
Result<View> KeyOf(const View& dir, uint64_t pos) {
  return dir.kind() == TypeKind::kDict ? dir.KeyAt(pos) : dir.At(pos);
}

// The declared key type of a dict, element type of a frozenset, if fixed.
std::optional<TypeKind> KeyKindOf(const View& dir) {
  const Type& t = dir.type();
  if (t.params.empty()) return std::nullopt;
  const TypeKind k = t.params[0].kind;
  if (k == TypeKind::kObject) return std::nullopt;
  return k;
}

// Binary search of sorted keys by a three-way comparison with the probe.
template <typename Cmp>
Result<std::optional<uint64_t>> Search(const View& dir, Cmp cmp) {
  size_t lo = 0, hi = dir.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    MAPFS_ASSIGN_OR_RETURN(View k, KeyOf(dir, mid));
    if (k.is_null()) return Status::Corruption("null key");
    const int c = cmp(k);
    if (c == 0) return std::optional<uint64_t>(mid);
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  return std::optional<uint64_t>();
}

}  // namespace

size_t ChildCount(const View& dir) {
  if (dir.kind() == TypeKind::kStruct) return dir.struct_def().fields.size();
  return dir.size();
}

Result<View> ChildAt(const View& dir, uint64_t pos) {
  if (pos >= ChildCount(dir)) return Status::NotFound("no such child");
  switch (dir.kind()) {
    case TypeKind::kStruct: return dir.Field(static_cast<int>(pos));
    case TypeKind::kDict: return dir.ValueAt(pos);
    default: return dir.At(pos);
  }
}

Result<std::string> ChildName(const View& dir, uint64_t pos) {
  switch (dir.kind()) {
    case TypeKind::kStruct:
      return dir.struct_def().fields[pos].name;
    case TypeKind::kDict:
    case TypeKind::kFrozenSet: {
      MAPFS_ASSIGN_OR_RETURN(View key, KeyOf(dir, pos));
      std::string text;
      MAPFS_RETURN_IF_ERROR(AppendKeyText(key, &text));
      return KeyName(text, pos);
    }
    default:
      return std::to_string(pos);
  }
}

Result<std::optional<uint64_t>> FindChild(const View& dir, std::string_view name) {
  using Found = std::optional<uint64_t>;
  switch (dir.kind()) {
    case TypeKind::kStruct: {
      std::optional<int> i = dir.struct_def().FindField(name);
      if (!i) return Found();
      return Found(*i);
    }
    case TypeKind::kDict:
    case TypeKind::kFrozenSet:
      break;
    default: {
      std::optional<uint64_t> i = ParseDecimal(name);
      if (!i || *i >= dir.size()) return Found();
      return i;
    }
  }
  Found pos = ParseIndexedName(name);
  if (!pos) {
    std::optional<std::string> text = UnescapeName(name);
    if (!text) return Found();
    const std::optional<TypeKind> kind = KeyKindOf(dir);
    if (kind == TypeKind::kStr || kind == TypeKind::kBytes) {
      MAPFS_ASSIGN_OR_RETURN(pos, Search(dir, [&](const View& k) {
        const int c = k.as_bytes().compare(*text);
        return c < 0 ? -1 : c > 0;
      }));
    } else if (kind && IsIntKind(*kind) && IsSignedIntKind(*kind) && !text->empty()) {
      char* end = nullptr;
      errno = 0;
      const long long probe = std::strtoll(text->c_str(), &end, 10);
      if (errno || end != text->c_str() + text->size()) return Found();
      MAPFS_ASSIGN_OR_RETURN(pos, Search(dir, [&](const View& k) {
        const int64_t v = k.as_int();
        return v < probe ? -1 : v > probe;
      }));
    } else if (kind && IsIntKind(*kind)) {
      std::optional<uint64_t> probe = ParseDecimal(*text);
      if (!probe) return Found();
      MAPFS_ASSIGN_OR_RETURN(pos, Search(dir, [&](const View& k) {
        const uint64_t v = k.as_uint();
        return v < *probe ? -1 : v > *probe;
      }));
    } else {
      // Keys of other types are found by their text, in one pass.
      std::string key_text;
      for (size_t i = 0; i < dir.size() && !pos; ++i) {
        MAPFS_ASSIGN_OR_RETURN(View k, KeyOf(dir, i));
        key_text.clear();
        MAPFS_RETURN_IF_ERROR(AppendKeyText(k, &key_text));
        if (key_text == *text) pos = i;
      }
    }
  }
  if (!pos || *pos >= dir.size()) return Found();
  // One name per child: it must be the name a listing shows.
  MAPFS_ASSIGN_OR_RETURN(std::string canonical, ChildName(dir, *pos));
  if (canonical != name) return Found();
  return pos;
}

}  // namespace mapfs::fs
