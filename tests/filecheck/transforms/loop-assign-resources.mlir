// loop-assign-resources searches hu, ru, rv for the fused LSTM H=1024 (the paper's Table 7
// task) and writes them onto the loops, with the modelled cost on the time loop; with the
// schedules beyond the paper's (the default), the partial sums chained in the map-reduce
// units (the nest's mark loop.chained_sums), with --schedules none the paper's design.
// RUN: rnnc %s --emit=loop --schedules none | filecheck %s
// RUN: rnnc %s --emit=loop --schedules none | rnnc - -p 'loop-assign-resources{schedules=none}' | filecheck %s
// RUN: rnnc %s --emit=loop | filecheck %s --check-prefix=CHAINED
// RUN: rnnc %s --emit=loop | rnnc - -p loop-assign-resources | filecheck %s --check-prefix=CHAINED
// RUN: not rnnc %s --emit=loop --schedules all,-nosuch 2>&1 | filecheck %s --check-prefix=NOSCHEDULE
// RUN: rnnc %s --emit=loop --schedules none | not rnnc - -p 'loop-assign-resources{schedules=bogus}' 2>&1 | filecheck %s --check-prefix=BADOPTION
// RUN: rnnc %s --emit=loop --arch plasticine --objective resources | filecheck %s --check-prefix=SMALL
// RUN: rnnc %s --emit=loop --dse-dump %t.csv > /dev/null && filecheck %s --input-file=%t.csv --check-prefix=DUMP
// RUN: not rnnc %s --emit=loop --arch %S/Inputs/no_clock.json 2>&1 | filecheck %s --check-prefix=BADARCH
// RUN: not rnnc %s --emit=loop --arch nosuch 2>&1 | filecheck %s --check-prefix=NOARCH
// RUN: not rnnc %s -p loop-assign-resources 2>&1 | filecheck %s --check-prefix=NOLOOP
// RUN: not rnnc %s --arch plasticine 2>&1 | filecheck %s --check-prefix=UNUSED

func.func @main(%X: tensor<25x1x1024xf32>, %W: tensor<1x4096x1024xf32>, %R: tensor<1x4096x1024xf32>, %B: tensor<1x8192xf32>) -> tensor<1x1x1024xf32> {
  %Y, %Y_h, %Y_c = rnn.lstm %X, %W, %R bias %B {hidden_size = 1024 : i64} : (tensor<25x1x1024xf32>, tensor<1x4096x1024xf32>, tensor<1x4096x1024xf32>, tensor<1x8192xf32>) -> (tensor<25x1x1x1024xf32>, tensor<1x1x1024xf32>, tensor<1x1x1024xf32>)
  func.return %Y_h : tensor<1x1x1024xf32>
}

// CHECK:      loop.sequential %t in 25 {
// CHECK-NEXT:   loop.foreach (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 1, 1024) par (1, 1, 1) {
// CHECK-NEXT:     %{{.*}} = loop.reduce add par 32 vec 64 (%{{.*}} in 1024) {
// CHECK-COUNT-3:  loop.reduce add par 32 vec 64
// CHECK-NOT:  loop.chained_sums
// CHECK:      } {loop.cost = {cycles_per_step = 1131 : i64, total_cycles = 28523 : i64, latency_ms = 2.852300e-02 : f64, ii = "1", pipeline_depth = 107 : i64, pcus = 158 : i64, pmus = 163 : i64, {{.*}}, chips = 1 : i64, precision = "mixed", bound = "compute units", explanation = "compute units: uses 158/191 PCUs; {{.*}}"

// No combining PCU: 4 copies (hu) x 4 gates x 11 parts = 176 of the 186 PCUs map-reduce.
// CHAINED:      loop.sequential %t in 25 {
// CHAINED-NEXT:   loop.foreach (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 1, 1024) par (1, 1, 4) {
// CHAINED-NEXT:     %{{.*}} = loop.reduce add par 11 vec 63 (%{{.*}} in 1024) {
// CHAINED-COUNT-3:  loop.reduce add par 11 vec 63
// CHAINED:        } {loop.chained_sums}
// CHAINED-NEXT: } {loop.cost = {cycles_per_step = 905 : i64, total_cycles = 22873 : i64, {{.*}}, pcus = 186 : i64, pmus = 199 : i64, {{.*}}, precision = "mixed", bound = "compute units"

// The original 16x8 Plasticine (fp32, 16 MiB) cannot hold the 32 MiB of fp32 weights; its
// 64 PCUs leave weight slices too large for two PMUs, so all but the rows two PMUs keep of
// each (one beside its stream buffer) stream:
// SMALL: loop.cost = {{{.*}}chips = 1 : i64, precision = "fp32", bound = "memory bandwidth", explanation = "memory bandwidth: 20.08 MiB of weights do not fit on chip

// DUMP: hu,ru,rv

// BADARCH: {{.*}}no_clock.json: error: field 'clock_ghz': missing (required)
// NOARCH: nosuch: error: no such architecture file, and not a preset name (presets: plasticine, plasticine-rnn)
// NOLOOP: error: loop-assign-resources: no time loop (loop.sequential) to assign; run rnn-decompose first
// NOSCHEDULE: --schedules: error: unknown schedule 'nosuch' (known: chained-sums, joint-chunks, posted-writes, step-ahead, swap-start, timing-placement)
// BADOPTION: -: error: loop-assign-resources: schedules: unknown schedule 'bogus' (known: chained-sums, joint-chunks, posted-writes, step-ahead, swap-start, timing-placement)
// UNUSED: --arch: error: no pass in the pipeline takes this option (add loop-assign-resources, e.g. --emit=loop)
