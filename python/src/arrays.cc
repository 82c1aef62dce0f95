// TypedArray and the shared-array functions of the Python module.
#include "module_internal.h"

namespace mapfs::python {

void RegisterArrays(pybind11::module_& m) { (void)m; }

}  // namespace mapfs::python
