// rnnc --stats on a DeepBench LSTM (H = 512, T = 25): the decomposed program keeps an
// H-sized on-chip buffer between every two kernels; the fused one keeps none, passing a few
// registers per gate (per dot product) instead, whatever H is.
// RUN: rnnc gen lstm 512 25 -o %t.mlir
// RUN: rnnc %t.mlir --stats | filecheck %s

// CHECK-LABEL: == rnn ==
// CHECK:       recurrent ops             rnn.lstm
// CHECK-NEXT:  loop nests                0
// CHECK-LABEL: == loop, decomposed ==
// CHECK-NEXT:  loop nests                27 (25 per time step, 25 steps)
// CHECK:       h            1x1x512        sram  state         512
// CHECK:       intermediate buffers      23 buffers of 512 elements, 11776 elements
// CHECK-NEXT:  intermediate registers    0 per iteration, 0.00 per dot product (8 dot products per iteration)
// CHECK-LABEL: == loop, fused ==
// CHECK-NEXT:  loop nests                3 (1 per time step, 25 steps)
// CHECK:       h            1x1x512        sram  state         1024 x2 buffers
// CHECK:       intermediate buffers      0 buffers, 0 elements
// CHECK-NEXT:  intermediate registers    16 per iteration, 4.00 per dot product (4 dot products per iteration)
