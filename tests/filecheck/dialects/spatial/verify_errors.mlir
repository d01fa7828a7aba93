// Verifier diagnostics of the spatial dialect name the unit or stream, the resource and the limit.
// RUN: not rnnc %s --split-input-file --arch %S/Inputs/tiny.json 2>&1 | filecheck %s

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 at (0, 0) {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
}
// CHECK: error: spatial.pcu @a: site (0, 0) holds a pmu, not a pcu

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pmu @m buffer "w" bytes 64 buffers 1 strided at (5, 0) {boxes = [{memory = "w", slices = [[0 : i64, 4 : i64, 1 : i64]]}], buffers = 1 : i64, bytes = 64 : i64, banking = "strided"}
}
// CHECK: error: spatial.pmu @m: site row 5 is outside the 2 rows of the grid

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pmu @m buffer "w" bytes 2000 buffers 1 strided {boxes = [{memory = "w", slices = [[0 : i64, 4 : i64, 1 : i64]]}], buffers = 1 : i64, bytes = 2000 : i64, banking = "strided"}
}
// CHECK: error: spatial.pmu @m: holds 2000 bytes, 976 more than its capacity of 1024

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pmu @m buffer "w" bytes 64 buffers 1 diagonal {boxes = [{memory = "w", slices = [[0 : i64, 4 : i64, 1 : i64]]}], buffers = 1 : i64, bytes = 64 : i64, banking = "diagonal"}
}
// CHECK: error: spatial.pmu @m: unknown banking 'diagonal' (expected strided, fifo, duplicated)

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}, {stage = 1 : i64, op = "tanh", args = ["in:si0"]}, {stage = 2 : i64, op = "tanh", args = ["in:si0"]}, {stage = 3 : i64, op = "tanh", args = ["in:si0"]}, {stage = 4 : i64, op = "tanh", args = ["in:si0"]}]}
}
// CHECK: error: spatial.pcu @a: its ops occupy 5 pipeline stages, the PCU has 4

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si7"]}]}
}
// CHECK: error: spatial.pcu @a: port si7 does not exist: a PCU has 6 scalar inputs

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["%1"]}]}
}
// CHECK: error: spatial.pcu @a: op 0 uses %1, which is not an earlier op

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.pcu @b elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.stream @s vector @a.so0 -> @b.si0
}
// CHECK: error: spatial.stream @s: @a.so0 is a scalar port, the stream is on the vector network

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.pcu @b elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.stream @s scalar @a.si0 -> @b.si0
}
// CHECK: error: spatial.stream @s: @a.si0 is not an output port

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.pcu @b elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.stream @s scalar @a.so0 -> @c.si0
}
// CHECK: error: spatial.stream @s: unknown unit @c

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.pcu @b elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.stream @s scalar @a.so0 -> @b.si0
  spatial.stream @t scalar @a.so1 -> @b.si0
}
// CHECK: error: spatial.stream @t: @b.si0 already carries stream @s

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pmu @m buffer "w" bytes 64 buffers 1 strided {boxes = [{memory = "w", slices = [[0 : i64, 4 : i64, 1 : i64]]}], buffers = 1 : i64, bytes = 64 : i64, banking = "strided"}
  spatial.pcu @b elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.stream @s vector @m.vo1 -> @b.vi0
}
// CHECK: error: spatial.pmu @m: port vo1 does not exist: a PMU has 1 vector outputs

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.pcu @b elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.stream @s scalar @a.so0 -> @b.si0 paths [(0, 0)] | [(0, 1)]
}
// CHECK: error: spatial.stream @s: has 2 paths for 1 sinks

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.ag @g top load "x" {edge = "top", direction = "load", memory = "x"}
}
// CHECK: error: spatial.ag @g: unknown edge 'top' (expected left or right)

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.ag @g left load "x" at (0, 3) {edge = "left", direction = "load", memory = "x"}
}
// CHECK: error: spatial.ag @g: an address generator on the left edge sits at column -1, got 3

// -----

// A PMU's role is one of the kinds the partition decides.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pmu @m cache "w" bytes 64 buffers 1 strided {boxes = [{memory = "w", slices = [[0 : i64, 4 : i64, 1 : i64]]}], buffers = 1 : i64, bytes = 64 : i64, banking = "strided"}
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:18: error: Expected `weights`, `lookup-table`, `input`, `operand`, `state`, or `buffer`.

// -----

// The architecture a design names must be a preset or the one given with --arch.
spatial.design @main #spatial.arch<"nowhere"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:1: error: the design names architecture 'nowhere', which is neither a preset nor given with --arch

// -----

// A stream endpoint's port is a typed #spatial.port: its short name must parse.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.stream @s scalar @a.xo0 -> @a.si0
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:{{[0-9]+}}: error: bad port name 'xo0' (expected e.g. si0, so1, vi0, vo0, ci0)

// -----

// So is its network.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.pcu @a elementwise "n" lanes 1 {role = "elementwise", mode = "elementwise", nest = "n", lanes = 1 : i64, counters = [], ops = [{stage = 0 : i64, op = "tanh", args = ["in:si0"]}]}
  spatial.stream @s optical @a.so0 -> @a.si0
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:{{[0-9]+}}: error: Expected `scalar`, `vector`, or `control`.
