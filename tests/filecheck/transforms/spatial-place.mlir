// spatial-place gives every unit a site of its kind on the 1x6 strip (Inputs/strip.json:
// PMU PCU PMU PMU PCU PMU, AGs on the left and right edge switches); a placed design is
// its own placement; the same seed gives the same sites.
// RUN: rnnc %S/Inputs/strip_design.mlir -p 'spatial-place{arch="%S/Inputs/strip.json"}' > %t.placed
// RUN: filecheck %s --input-file=%t.placed
// RUN: rnnc %t.placed -p 'spatial-place{arch="%S/Inputs/strip.json" seed=7}' | diff - %t.placed
// RUN: rnnc %S/Inputs/strip_design.mlir -p 'spatial-place{arch="%S/Inputs/strip.json"}' | diff - %t.placed
// RUN: env PYTHONHASHSEED=1 rnnc %S/Inputs/strip_design.mlir -p 'spatial-place{arch="%S/Inputs/strip.json"}' | diff - %t.placed
// RUN: not rnnc %s --split-input-file -p 'spatial-place{arch="%S/Inputs/strip.json"}' 2>&1 | filecheck %s --check-prefix=ERR
// RUN: not rnnc %S/Inputs/strip_design.mlir -p spatial-place 2>&1 | filecheck %s --check-prefix=NOARCH
// RUN: not rnnc %S/Inputs/strip_design.mlir -p 'spatial-place{arch=plasticine}' 2>&1 | filecheck %s --check-prefix=GRID

// Every unit is placed on a site of its kind; AGs on their own edge (row 0 or 1 of the
// two edge switches, column -1 on the left, 6 on the right).
// CHECK:      spatial.ag @x_in left load "x" at ({{[01]}}, -1)
// CHECK-NEXT: spatial.pmu @x_0 "x" bytes 128 buffers 2 strided at (0, {{[0235]}})
// CHECK-NEXT: spatial.pmu @w_0 "w" bytes 1024 buffers 1 strided at (0, {{[0235]}})
// CHECK-NEXT: spatial.pmu @w_1 "w" bytes 1024 buffers 1 strided at (0, {{[0235]}})
// CHECK-NEXT: spatial.pcu @a map_reduce "cell" lanes 16 at (0, {{[14]}})
// CHECK-NEXT: spatial.pcu @b map_reduce "cell" lanes 16 at (0, {{[14]}})
// CHECK-NEXT: spatial.pmu @h_0 "h" bytes 128 buffers 2 strided at (0, {{[0235]}})
// CHECK-NEXT: spatial.ag @y_out right store "y" at ({{[01]}}, 6)
// CHECK-NOT:  paths

// NOARCH: error: spatial-place: strip: no such architecture file, and not a preset name
// GRID: error: spatial-place: architecture 'plasticine' has a 16x8 grid tiled ['pcu,pmu', 'pmu,pcu'], the design a 1x6 grid tiled ['pmu,pcu,pmu']

// Three PCUs for the strip's two PCU sites: the chip is too small.
spatial.design @three_pcus arch "strip" digest "" precision "fp32" tile ["pmu,pcu,pmu"]
    limits {rows = 1 : i64, cols = 6 : i64, ag_rows = 2 : i64, pcu_lanes = 16 : i64, pcu_stages = 4 : i64,
            pcu_scalar_inputs = 6 : i64, pcu_scalar_outputs = 5 : i64,
            pcu_vector_inputs = 3 : i64, pcu_vector_outputs = 3 : i64,
            pcu_control_inputs = 4 : i64, pcu_control_outputs = 4 : i64,
            pmu_bytes = 86016 : i64, pmu_scalar_inputs = 4 : i64, pmu_vector_inputs = 3 : i64,
            pmu_vector_outputs = 1 : i64, ag_vector_inputs = 1 : i64, ag_vector_outputs = 1 : i64}
    program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.ag @x_in left load "x" {edge = "left", direction = "load", memory = "x"}
  spatial.pcu @a map_reduce "cell" lanes 16 {role = "map_reduce", mode = "map_reduce", nest = "cell", lanes = 16 : i64, counters = []}
  spatial.pcu @b map_reduce "cell" lanes 16 {role = "map_reduce", mode = "map_reduce", nest = "cell", lanes = 16 : i64, counters = []}
  spatial.pcu @c map_reduce "cell" lanes 16 {role = "map_reduce", mode = "map_reduce", nest = "cell", lanes = 16 : i64, counters = []}
  spatial.stream @s0 scalar @a.so0 -> @b.si0, @c.si0
}
// ERR: error: spatial-place: too few PCU sites: 3 PCUs to place, the chip has 2

// -----

// Two units pinned to one site.
spatial.design @pinned_twice arch "strip" digest "" precision "fp32" tile ["pmu,pcu,pmu"]
    limits {rows = 1 : i64, cols = 6 : i64, ag_rows = 2 : i64, pcu_lanes = 16 : i64, pcu_stages = 4 : i64,
            pcu_scalar_inputs = 6 : i64, pcu_scalar_outputs = 5 : i64,
            pcu_vector_inputs = 3 : i64, pcu_vector_outputs = 3 : i64,
            pcu_control_inputs = 4 : i64, pcu_control_outputs = 4 : i64,
            pmu_bytes = 86016 : i64, pmu_scalar_inputs = 4 : i64, pmu_vector_inputs = 3 : i64,
            pmu_vector_outputs = 1 : i64, ag_vector_inputs = 1 : i64, ag_vector_outputs = 1 : i64}
    program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.ag @x_in left load "x" {edge = "left", direction = "load", memory = "x"}
  spatial.pcu @a map_reduce "cell" lanes 16 at (0, 4) {role = "map_reduce", mode = "map_reduce", nest = "cell", lanes = 16 : i64, counters = []}
  spatial.pcu @b map_reduce "cell" lanes 16 at (0, 4) {role = "map_reduce", mode = "map_reduce", nest = "cell", lanes = 16 : i64, counters = []}
}
// ERR: error: spatial-place: units 'a' and 'b' are both pinned to (0, 4)

// -----

// Pinned units keep their sites; the others fill the rest.
spatial.design @pinned arch "strip" digest "" precision "fp32" tile ["pmu,pcu,pmu"]
    limits {rows = 1 : i64, cols = 6 : i64, ag_rows = 2 : i64, pcu_lanes = 16 : i64, pcu_stages = 4 : i64,
            pcu_scalar_inputs = 6 : i64, pcu_scalar_outputs = 5 : i64,
            pcu_vector_inputs = 3 : i64, pcu_vector_outputs = 3 : i64,
            pcu_control_inputs = 4 : i64, pcu_control_outputs = 4 : i64,
            pmu_bytes = 86016 : i64, pmu_scalar_inputs = 4 : i64, pmu_vector_inputs = 3 : i64,
            pmu_vector_outputs = 1 : i64, ag_vector_inputs = 1 : i64, ag_vector_outputs = 1 : i64}
    program {memories = [], inputs = [], outputs = [], schedule = [], nests = [], design = []} {
  spatial.ag @x_in left load "x" {edge = "left", direction = "load", memory = "x"}
  spatial.pcu @a map_reduce "cell" lanes 16 at (0, 4) {role = "map_reduce", mode = "map_reduce", nest = "cell", lanes = 16 : i64, counters = []}
  spatial.pcu @b map_reduce "cell" lanes 16 {role = "map_reduce", mode = "map_reduce", nest = "cell", lanes = 16 : i64, counters = []}
  spatial.pcu @c map_reduce "cell" lanes 16 {role = "map_reduce", mode = "map_reduce", nest = "cell", lanes = 16 : i64, counters = []}
}
// ERR: error: spatial-place: too few PCU sites: 2 PCUs to place, the chip has 2, 1 of them held by pinned units

// -----

// No design at all.
func.func @f() {
  func.return
}
// ERR: error: spatial-place: no spatial.design to place; run spatial-partition first
