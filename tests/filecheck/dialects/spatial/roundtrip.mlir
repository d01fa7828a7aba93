// The spatial dialect's custom syntax round-trips, and so does the generic form.
// The design names its architecture (Inputs/tiny.json, given with --arch).
// RUN: rnnc %s --arch %S/Inputs/tiny.json | filecheck %s
// RUN: rnnc %s --arch %S/Inputs/tiny.json | rnnc - --arch %S/Inputs/tiny.json | filecheck %s
// RUN: rnnc %s --arch %S/Inputs/tiny.json --print-op-generic | rnnc - --arch %S/Inputs/tiny.json | filecheck %s

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.ag @x_in left load "x" at (0, -1) {edge = "left", direction = "load", memory = "x"}
  spatial.pmu @w_0 weights "w" bytes 64 buffers 1 strided at (0, 0) {boxes = [{memory = "w", slices = [[0 : i64, 4 : i64, 1 : i64], [0 : i64, 4 : i64, 1 : i64]]}], buffers = 1 : i64, bytes = 64 : i64, banking = "strided", holds = [{array = "W", slices = [[0 : i64, 4 : i64, 1 : i64], [0 : i64, 4 : i64, 1 : i64]], quantization = "fp32"}]}
  spatial.pcu @mr_0 map_reduce "cell" lanes 4 at (0, 1) {role = "map_reduce", mode = "map_reduce", nest = "cell", lanes = 4 : i64, counters = [{name = "d0", start = 0 : i64, stop = 4 : i64, stride = 1 : i64}], ops = [{stage = 0 : i64, op = "mul", args = ["in:vi0", "in:vi1"]}], reduce = {combiner = "add", output = "so0", segments = [{reduction = "s", start = 0 : i64, stop = 4 : i64, value = "%0"}]}}
  spatial.pcu @ew_0 elementwise "cell" lanes 1 {role = "elementwise", mode = "elementwise", nest = "cell", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}], emits = [{port = "vo0", values = ["%0"]}]}
  spatial.stream @s0 vector @w_0.vo0 -> @mr_0.vi0
  spatial.stream @s1 vector @x_in.vo0 -> @mr_0.vi1 paths [(0, 0), (0, 1)]
  spatial.stream @s2 scalar @mr_0.so0 -> @ew_0.si0 paths [(0, 1), (0, 2), (1, 2)]
}

// CHECK:      spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {
// CHECK:        spatial.ag @x_in left load "x" at (0, -1) {edge = "left", direction = "load", memory = "x"}
// CHECK-NEXT:   spatial.pmu @w_0 weights "w" bytes 64 buffers 1 strided at (0, 0) {boxes = [{memory = "w",
// CHECK-NEXT:   spatial.pcu @mr_0 map_reduce "cell" lanes 4 at (0, 1) {role = "map_reduce",
// CHECK-NEXT:   spatial.pcu @ew_0 elementwise "cell" lanes 1 {role = "elementwise",
// CHECK-NEXT:   spatial.stream @s0 vector @w_0.vo0 -> @mr_0.vi0
// CHECK-NEXT:   spatial.stream @s1 vector @x_in.vo0 -> @mr_0.vi1 paths [(0, 0), (0, 1)]
// CHECK-NEXT:   spatial.stream @s2 scalar @mr_0.so0 -> @ew_0.si0 paths [(0, 1), (0, 2), (1, 2)]
