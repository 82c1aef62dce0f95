// mapfs.open and the views (filled in by the read side of the module).
#include "module_internal.h"

namespace mapfs::python {

void RegisterRead(pybind11::module_&) {}
PyObject* ValueToPy(const View&, PyObject*) {
  PyErr_SetString(PyExc_NotImplementedError, "views are not built yet");
  return nullptr;
}
bool RecordViewFromPy(PyObject*, View*) { return false; }

}  // namespace mapfs::python
