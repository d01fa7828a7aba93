// A researcher's single-file pass, loaded at run time, runs in an rnnc pipeline.
// RUN: rnnc %s --load-pass-plugin %examples/plugins/annotate_flops.py -p user-annotate-flops | filecheck %s
// RUN: rnnc %s --load-pass-plugin %examples/plugins/annotate_flops.py -p 'user-annotate-flops{convention=deepbench}' | filecheck %s --check-prefix=DEEPBENCH
// RUN: not rnnc %s -p user-annotate-flops 2>&1 | filecheck %s --check-prefix=UNLOADED
// RUN: not rnnc %s --load-pass-plugin %examples/plugins/annotate_flops.py -p 'user-annotate-flops{convention=other}' 2>&1 | filecheck %s --check-prefix=BADOPT
// RUN: not rnnc %s --load-pass-plugin %S/Inputs/no_such_plugin.py -p user-annotate-flops 2>&1 | filecheck %s --check-prefix=MISSING

func.func @main(%x: tensor<25x1x512xf32>, %w: tensor<1x2048x512xf32>, %r: tensor<1x2048x512xf32>) -> tensor<1x1x512xf32> {
  %y, %yh, %yc = rnn.lstm %x, %w, %r {hidden_size = 512 : i64} : (tensor<25x1x512xf32>, tensor<1x2048x512xf32>, tensor<1x2048x512xf32>) -> (tensor<25x1x1x512xf32>, tensor<1x1x512xf32>, tensor<1x1x512xf32>)
  func.return %yh : tensor<1x1x512xf32>
}

// 2 * 4 gates * 512 * (512 + 512) * 25 steps
// CHECK: rnn.lstm %x, %w, %r {hidden_size = 512 : i64, user.flops = 104857600 : i64}
// DEEPBENCH: user.flops = 52428800 : i64
// UNLOADED: -p: error: invalid pass pipeline 'user-annotate-flops': unknown pass 'user-annotate-flops'
// BADOPT: error: user-annotate-flops: convention must be paper or deepbench, got other
// MISSING: no_such_plugin.py: error: no such pass plug-in file
