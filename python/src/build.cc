// mapfs.build, pack, pack_into, view (filled in by the build side).
#include "module_internal.h"

namespace mapfs::python {

void RegisterBuild(pybind11::module_&) {}

}  // namespace mapfs::python
