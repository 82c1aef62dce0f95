// TypedArray and the shared-array functions of the Python module; each half
// is in its own file (array_internal.h).
#include "array_internal.h"

namespace mapfs::python {

void RegisterArrays(pybind11::module_& m) {
  RegisterTypedArray(m);
  RegisterSharedArrays(m);
}

}  // namespace mapfs::python
