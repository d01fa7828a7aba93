// Verifier diagnostics of the spatial dialect name the unit or stream, the resource and the limit.
// RUN: not rnnc %s --split-input-file --arch %S/Inputs/tiny.json 2>&1 | filecheck %s

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] at (0, 0) {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
}
// CHECK: error: spatial.pcu @a: site (0, 0) holds a pmu, not a pcu

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @m buffer strided bytes 64 buffers 1 at (5, 0) boxes ["w"[0:4:1]]
}
// CHECK: error: spatial.pmu @m: site row 5 is outside the 2 rows of the grid

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @m buffer strided bytes 2000 buffers 1 boxes ["w"[0:4:1]]
}
// CHECK: error: spatial.pmu @m: holds 2000 bytes, 976 more than its capacity of 1024

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @m buffer diagonal bytes 64 buffers 1 boxes ["w"[0:4:1]]
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:25: error: Expected `strided`, `fifo`, or `duplicated`.

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @m buffer strided bytes 64 buffers 0 boxes ["w"[0:4:1]]
}
// CHECK: error: spatial.pmu @m: buffers must be >= 1, got 0

// -----

// A box (or a holding) is a range per dimension: start <= stop, a step of at least 1.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @m buffer strided bytes 64 buffers 1 boxes ["w"[0:4:1, 4:0:1]]
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:{{[0-9]+}}: error: box of "w": slice 4:0:1 is not a range 0 <= start <= stop with a step of at least 1

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @m weights strided bytes 64 buffers 1 boxes ["w"[0:4:1]] holds ["W"[0:4:0] as "fp32"]
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:{{[0-9]+}}: error: holding of "W": slice 0:4:0 is not a range 0 <= start <= stop with a step of at least 1

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
    %2 = spatial.op tanh stage 1 (%0)
    %3 = spatial.op tanh stage 2 (%0)
    %4 = spatial.op tanh stage 3 (%0)
    %5 = spatial.op tanh stage 4 (%0)
  }
}
// CHECK: error: spatial.pcu @a: its ops occupy 5 pipeline stages, the PCU has 4

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si7
    %1 = spatial.op tanh stage 0 (%0)
  }
}
// CHECK: error: spatial.pcu @a: port si7 does not exist: a PCU has 6 scalar inputs

// -----

// An op's operands are values defined before it in the unit's body.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %1 = spatial.op tanh stage 0 (%0)
    %0 = spatial.in si0
  }
}
// CHECK: error: spatial.pcu @a: op 0 (spatial.op) uses a value not defined before it in the unit

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 0 counters []
}
// CHECK: error: spatial.pcu @a: uses 0 lanes, at least 1 is needed

// -----

// A unit's lanes beyond the architecture's are a design check.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 99 counters []
}
// CHECK: error: spatial.pcu @a: uses 99 lanes, the PCU has 16

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters ["d0" 0 to 4 step 0]
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:{{[0-9]+}}: error: counter "d0": stride must be >= 1, got 0

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a gather mode fold "n" lanes 1 counters []
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:30: error: Expected `map_reduce`, or `elementwise`.

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a combine mode elementwise "n" lanes 1 counters [] {
    spatial.reduce add -> so0 rv 1 ()
    spatial.reduce add -> so1 rv 1 ()
  }
}
// CHECK: error: spatial.pcu @a: folds 2 reductions, a PCU folds at most one

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a map_reduce mode map_reduce "n" lanes 1 counters [] {
    spatial.segment "r0" 0 to 4 base 0 ()
    spatial.reduce add -> so0 rv 1 ()
  }
}
// CHECK: error: spatial.pcu @a: op 0 (spatial.segment) comes before the spatial.reduce it belongs to

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a map_reduce mode map_reduce "n" lanes 1 counters [] {
    spatial.reduce add -> so0 rv 0 ()
  }
}
// CHECK: error: spatial.reduce: rv must be >= 1, got 0

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a combine mode elementwise "n" lanes 1 counters [] {
    spatial.reduce add -> si0 rv 1 ()
  }
}
// CHECK: error: spatial.reduce: si0 is not an output port

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a map_reduce mode map_reduce "n" lanes 1 counters [] {
    spatial.reduce add -> so0 rv 1 ()
    spatial.segment "r0" 4 to 0 base 0 ()
  }
}
// CHECK: error: spatial.segment: [4, 0) is not a range

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a map_reduce mode map_reduce "n" lanes 1 counters [] {
    %0 = spatial.in si0
    spatial.reduce add -> so0 rv 1 ()
    spatial.segment "r0" 0 to 4 base 0 (%0, %0)
  }
}
// CHECK: error: spatial.segment: folds one value

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in so0
  }
}
// CHECK: error: spatial.in: so0 is not an input port

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in xi0
  }
}
// CHECK: verify_errors.mlir:[[# @LINE - 3]]:21: error: bad port name 'xi0' (expected e.g. si0, so1, vi0, vo0, ci0)

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    spatial.emit vi0 (%0)
  }
}
// CHECK: error: spatial.emit: vi0 is not an output port

// -----

// The port a read or write op names is a port (`#spatial.port`).
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.op read stage 0 () memory "w" port zz0 offsets []
  }
}
// CHECK: verify_errors.mlir:[[# @LINE - 3]]:53: error: bad port name 'zz0' (expected e.g. si0, so1, vi0, vo0, ci0)

// -----

// A read needs its memory, port and offsets.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.op read stage 0 () port vi0
  }
}
// CHECK: error: spatial.op read: needs memory, offsets

// -----

// A read arrives on an input port, a write leaves on an output port.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.ctr "d0"
    %1 = spatial.op read stage 0 (%0) memory "w" port vo0 offsets [0]
  }
}
// CHECK: error: spatial.op read: vo0 is not an input port

// -----

// One offset per index operand.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.ctr "d0"
    %1 = spatial.op read stage 0 (%0) memory "w" port vi0 offsets [0, 0]
  }
}
// CHECK: error: spatial.op read: 2 offsets for 1 index operands

// -----

// Only a read or write accesses a memory.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0) memory "w"
  }
}
// CHECK: error: spatial.op tanh: takes no memory (only a read or write)

// -----

// A const has its value; nothing else has one.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.op const stage 0 ()
  }
}
// CHECK: error: spatial.op const: needs value

// -----

// A table belongs to an activation.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.op const stage 0 () lut @t value 1.0 : f64
  }
}
// CHECK: error: spatial.op const: takes no lut (only an activation)

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  %0 = spatial.op tanh stage 0 ()
}
// CHECK: error: 'spatial.op' expects parent op 'spatial.pcu'

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.pcu @b elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.stream @s vector @a.so0 -> @b.si0
}
// CHECK: error: spatial.stream @s: @a.so0 is a scalar port, the stream is on the vector network

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.pcu @b elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.stream @s scalar @a.si0 -> @b.si0
}
// CHECK: error: spatial.stream @s: @a.si0 is not an output port

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.pcu @b elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.stream @s scalar @a.so0 -> @c.si0
}
// CHECK: error: spatial.stream @s: unknown unit @c

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.pcu @b elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.stream @s scalar @a.so0 -> @b.si0
  spatial.stream @t scalar @a.so1 -> @b.si0
}
// CHECK: error: spatial.stream @t: @b.si0 already carries stream @s

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @m buffer strided bytes 64 buffers 1 boxes ["w"[0:4:1]]
  spatial.pcu @b elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.stream @s vector @m.vo1 -> @b.vi0
}
// CHECK: error: spatial.pmu @m: port vo1 does not exist: a PMU has 1 vector outputs

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.pcu @b elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.stream @s scalar @a.so0 -> @b.si0 paths [(0, 0)] | [(0, 1)]
}
// CHECK: error: spatial.stream @s: has 2 paths for 1 sinks

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.ag @g top load "x"
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:17: error: Expected `left`, or `right`.

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.ag @g left load "x" at (0, 3)
}
// CHECK: error: spatial.ag @g: an address generator on the left edge sits at column -1, got 3

// -----

// A PMU's role is one of the kinds the partition decides.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @m cache strided bytes 64 buffers 1 boxes ["w"[0:4:1]]
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:18: error: Expected `weights`, `lookup-table`, `input`, `operand`, `ahead`, `state`, or `buffer`.

// -----

// The architecture a design names must be a preset or the one given with --arch.
spatial.design @main #spatial.arch<"nowhere"> precision "fp32" {
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:1: error: the design names architecture 'nowhere', which is neither a preset nor given with --arch

// -----

// A stream endpoint's port is a typed #spatial.port: its short name must parse.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.stream @s scalar @a.xo0 -> @a.si0
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:{{[0-9]+}}: error: bad port name 'xo0' (expected e.g. si0, so1, vi0, vo0, ci0)

// -----

// So is its network.
spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pcu @a elementwise mode elementwise "n" lanes 1 counters [] {
    %0 = spatial.in si0
    %1 = spatial.op tanh stage 0 (%0)
  }
  spatial.stream @s optical @a.so0 -> @a.si0
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:{{[0-9]+}}: error: Expected `scalar`, `vector`, or `control`.

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @t "lookup-table" strided bytes 8 buffers 1 lut ["tanh" 1 8.0 linear]
}
// CHECK: error: table "tanh": entries must be >= 2, got 1

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @t "lookup-table" strided bytes 512 buffers 1 lut ["sigmoid" 64 0.0 nearest]
}
// CHECK: error: table "sigmoid": range must be > 0, got 0.0

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.pmu @t "lookup-table" strided bytes 512 buffers 1 lut ["sigmoid" 64 8.0 cubic]
}
// CHECK: verify_errors.mlir:[[# @LINE - 2]]:83: error: Expected `nearest`, or `linear`.

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.memory "h" sram [4] element_bytes 4 buffers 0
}
// CHECK: error: spatial.memory: memory 'h': element_bytes and buffers must be >= 1

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.memory "w" sram [4] element_bytes 4 buffers 1 init weight
}
// CHECK: error: spatial.memory: memory 'w': init weight needs the name of what it starts as

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.memory "h" sram [4] element_bytes 4 buffers 1 init zero "h0"
}
// CHECK: error: spatial.memory: memory 'h': init zero starts as no array, yet names 'h0'

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.memory "h" sram [4] element_bytes 4 buffers 1
  spatial.memory "h" sram [8] element_bytes 4 buffers 1
}
// CHECK: error: spatial.memory: 'h' is declared twice

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.bind output "Y" [4] "f32"
}
// CHECK: error: spatial.bind: output 'Y' is written from no memory

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.bind input "X" [4] "f32" to "x"
}
// CHECK: error: spatial.bind: input 'X' names memory 'x', which the design does not declare

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.nest "n0" [4, 4] par [2]
}
// CHECK: error: spatial.nest: nest 'n0': 1 factors of par for 2 dimensions

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.nest "n0" [4] par [0]
}
// CHECK: error: spatial.nest: nest 'n0': extents must be >= 0 and par >= 1

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.nest "n0" [4] par [1]
  spatial.point "n0" hu 1 ru 1 rv 0
}
// CHECK: error: spatial.point: nest 'n0': hu, ru and rv must be >= 1

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.point "n9" hu 1 ru 1 rv 1
}
// CHECK: error: spatial.point: nest 'n9' is not declared by a spatial.nest

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.nest "n0" [4] par [1]
  spatial.phase loop 0 ["n0"]
}
// CHECK: error: spatial.phase: a loop phase runs at least one step, not 0

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.nest "n0" [4] par [1]
  spatial.phase once ["n0"] posted []
}
// CHECK: error: spatial.phase: only a loop phase posts writes

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.phase loop 3 ["n1"]
}
// CHECK: error: spatial.phase: nest 'n1' is not declared by a spatial.nest

// -----

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.nest "n0" [4] par [1]
  spatial.phase loop 3 ["n0"] posted [@gone]
}
// CHECK: error: spatial.phase: posts writes of @gone, which is not a unit of the design
