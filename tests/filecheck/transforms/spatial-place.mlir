// spatial-place gives every unit a site of its kind on the 1x6 strip (Inputs/strip.json:
// PMU PCU PMU PMU PCU PMU, AGs on the left and right edge switches); a placed design is
// its own placement; the same seed gives the same sites.
// RUN: rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-place' > %t.placed
// RUN: filecheck %s --input-file=%t.placed
// RUN: rnnc %t.placed --arch %S/Inputs/strip.json -p 'spatial-place{seed=7}' | diff - %t.placed
// RUN: rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-place' | diff - %t.placed
// RUN: env PYTHONHASHSEED=1 rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-place' | diff - %t.placed
// RUN: not rnnc %s --split-input-file --arch %S/Inputs/strip.json -p 'spatial-place' 2>&1 | filecheck %s --check-prefix=ERR
// RUN: not rnnc %S/Inputs/strip_design.mlir -p spatial-place 2>&1 | filecheck %s --check-prefix=NOARCH
// RUN: not rnnc %S/Inputs/strip_design.mlir --arch plasticine -p spatial-place 2>&1 | filecheck %s --check-prefix=NOARCH
// RUN: sed 's/#spatial.arch<"strip">/#spatial.arch<"strip", "00ab">/' %S/Inputs/strip_design.mlir | not rnnc - --arch %S/Inputs/strip.json -p spatial-place 2>&1 | filecheck %s --check-prefix=DIGEST

// Every unit is placed on a site of its kind; AGs on their own edge (row 0 or 1 of the
// two edge switches, column -1 on the left, 6 on the right).
// CHECK:      spatial.ag @x_in left load "x" at ({{[01]}}, -1)
// CHECK-NEXT: spatial.pmu @x_0 input strided bytes 128 buffers 2 at (0, {{[0235]}})
// CHECK-NEXT: spatial.pmu @w_0 weights strided bytes 1024 buffers 1 at (0, {{[0235]}})
// CHECK-NEXT: spatial.pmu @w_1 weights strided bytes 1024 buffers 1 at (0, {{[0235]}})
// CHECK-NEXT: spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, {{[14]}})
// CHECK-NEXT: spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, {{[14]}})
// CHECK-NEXT: spatial.pmu @h_0 state strided bytes 128 buffers 2 at (0, {{[0235]}})
// CHECK-NEXT: spatial.ag @y_out right store "y" at ({{[01]}}, 6)
// CHECK-NOT:  paths

// NOARCH: strip_design.mlir:4:1: error: the design names architecture 'strip', which is neither a preset nor given with --arch
// DIGEST: -:4:1: error: the design was made for architecture 'strip' with digest 00ab, which now has digest {{[0-9a-f]{64}$}}

// Three PCUs for the strip's two PCU sites: the chip is too small.
spatial.design @three_pcus #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x"
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters []
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters []
  spatial.pcu @c map_reduce mode map_reduce "cell" lanes 16 counters []
  spatial.stream @s0 scalar @a.so0 -> @b.si0, @c.si0
}
// ERR: error: spatial-place: too few PCU sites: 3 PCUs to place, the chip has 2

// -----

// Two units pinned to one site.
spatial.design @pinned_twice #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x"
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
}
// ERR: error: spatial-place: units 'a' and 'b' are both pinned to (0, 4)

// -----

// Pinned units keep their sites; the others fill the rest.
spatial.design @pinned #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x"
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters []
  spatial.pcu @c map_reduce mode map_reduce "cell" lanes 16 counters []
}
// ERR: error: spatial-place: too few PCU sites: 2 PCUs to place, the chip has 2, 1 of them held by pinned units

// -----

// No design at all.
func.func @f() {
  func.return
}
// ERR: error: spatial-place: no spatial.design to place; run spatial-partition first
