"""Front ends: ONNX import and the DeepBench model generator. They return modules and
arrays; the driver writes the files."""
