// What the ONNX importer refuses: one `file: node ... : error:` diagnostic each, naming
// the node (name and op type) or the graph input, and the reason.
// RUN: rm -rf %t && mkdir %t && %python %S/../../onnx_graphs.py %t
// RUN: not rnnc import %t/unsupported_op.onnx -o %t/unsupported_op.mlir 2>&1 | filecheck %s --check-prefix=OP
// OP: unsupported_op.onnx: node 'add' (Add): error: unsupported op type 'Add' (rnnc imports Concat, Constant, ConstantOfShape, Expand, Flatten, GRU, Gather, Identity, LSTM, RNN, Reshape, Shape, Slice, Squeeze, Transpose, Unsqueeze)

// RUN: not rnnc import %t/dynamic_shape.onnx -o %t/dynamic_shape.mlir 2>&1 | filecheck %s --check-prefix=DYN
// DYN: dynamic_shape.onnx: input 'X': error: dimension 0 is 'seq'; rnnc needs static, positive sizes

// RUN: not rnnc import %t/double_input.onnx -o %t/double_input.mlir 2>&1 | filecheck %s --check-prefix=F64
// F64: double_input.onnx: input 'X': error: element type DOUBLE is not supported (rnnc takes float32 tensors, and int32 for sequence_lens)

// RUN: not rnnc import %t/bad_direction.onnx -o %t/bad_direction.mlir 2>&1 | filecheck %s --check-prefix=DIR
// DIR: bad_direction.onnx: node 'rnn' (RNN): error: rnn.rnn: direction must be one of forward, reverse, bidirectional, got "sideways"

// RUN: not rnnc import %t/bad_activation.onnx -o %t/bad_activation.mlir 2>&1 | filecheck %s --check-prefix=ACT
// ACT: bad_activation.onnx: node 'rnn' (RNN): error: rnn.rnn: unknown activation "Swish"

// RUN: not rnnc import %t/strided_slice.onnx -o %t/strided_slice.mlir 2>&1 | filecheck %s --check-prefix=STEP
// STEP: strided_slice.onnx: node 'slice' (Slice): error: only slices with step 1 of run-time tensors are supported

// RUN: not rnnc import %t/run_time_shape.onnx -o %t/run_time_shape.mlir 2>&1 | filecheck %s --check-prefix=SHAPE
// SHAPE: run_time_shape.onnx: node 'reshape' (Reshape): error: the shape input is computed at run time; rnnc needs it constant (static shapes)

// RUN: echo "not a model" > %t/junk.onnx
// RUN: not rnnc import %t/junk.onnx -o %t/junk.mlir 2>&1 | filecheck %s --check-prefix=JUNK
// JUNK: junk.onnx: error: not an ONNX model

// RUN: not rnnc import %t/none.onnx -o %t/none.mlir 2>&1 | filecheck %s --check-prefix=NONE
// NONE: none.onnx: error: no such file
