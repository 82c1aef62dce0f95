// `mapfs verify FILE...`: checks every checksum and invariant of each segment
// (Segment::Verify), printing "FILE: OK" or the first problem found with its
// offset. Exits 1 if a file fails a check, 2 if one cannot be read.
#include <cstdio>
#include <memory>
#include <vector>

#include "command.h"
#include "dataset_cmds.h"
#include "mapfs/dataset.h"
#include "mapfs/segment.h"

namespace mapfs::cli {
namespace {

Status VerifyOne(const std::string& path) {
  if (IsDatasetDir(path)) return VerifyDataset(path);
  MAPFS_ASSIGN_OR_RETURN(Segment seg, Segment::Open(path));
  MAPFS_RETURN_IF_ERROR(seg.Verify());
  std::printf("%s: OK (%s, %llu records)\n", path.c_str(),
              std::string(CollectionKindName(seg.kind())).c_str(),
              static_cast<unsigned long long>(seg.record_count()));
  return Status::OK();
}

void Register(CLI::App& app) {
  auto paths = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("verify", "Check every checksum and invariant of segments");
  cmd->add_option("files", *paths, "Segment files")->required();
  cmd->callback([paths] {
    for (const std::string& p : *paths) {
      Status st = VerifyOne(p);
      if (!st.ok()) Fail(InFile(p, st), ExitCodeFor(st, Doing::kCheck));
    }
  });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
