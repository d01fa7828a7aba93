// The spatial dialect's custom syntax round-trips, and so does the generic form: address
// generators (with and without boxes), PMUs of each banking with boxes, holdings and
// typed lookup tables, PCUs whose bodies read counters and inputs (several ports, a field),
// run ops at pipeline stages (with their typed parameters: a read on two ports, a write to
// a buffer, a const, a compare, an activation's alpha and beta), emit and fold (segments,
// one with no value; a combine's inputs), and a PCU with an empty body. The program comes
// first: memories (each way one starts), the model's inputs (one read into no memory) and
// outputs, nests, design points and the schedule's phases (a loop posting writes).
// The design names its architecture (Inputs/tiny.json, given with --arch).
// RUN: rnnc %s --arch %S/Inputs/tiny.json | filecheck %s
// RUN: rnnc %s --arch %S/Inputs/tiny.json | rnnc - --arch %S/Inputs/tiny.json | filecheck %s
// RUN: rnnc %s --arch %S/Inputs/tiny.json --print-op-generic | rnnc - --arch %S/Inputs/tiny.json | filecheck %s

spatial.design @main #spatial.arch<"tiny"> precision "fp32" {
  spatial.memory "x" dram [2, 4] element_bytes 4 buffers 1 init input "X"
  spatial.memory "w" sram [8, 4] element_bytes 1 buffers 1 init weight "W"
  spatial.memory "b" sram [8] element_bytes 4 buffers 1 init weight "n0.folded"
  spatial.memory "h" sram [4] element_bytes 4 buffers 2 init zero
  spatial.memory "y" dram [2, 4] element_bytes 4 buffers 1
  spatial.bind input "X" [2, 1, 4] "f32" to "x"
  spatial.bind input "unused" [1] "f32"
  spatial.bind output "Y" [2, 1, 4] "f32" to "y"
  spatial.nest "cell" [4, 8] par [1, 2]
  spatial.point "cell" hu 2 ru 1 rv 4
  spatial.phase once ["cell"]
  spatial.phase loop 2 ["cell"] posted [@x_0]
  spatial.ag @x_in left load "x" at (0, -1)
  spatial.ag @w_in right load "w" boxes ["w"[0:4:1, 0:4:1], "w"[4:8:2, 0:4:1] per_step]
  spatial.pmu @w_0 weights strided bytes 64 buffers 1 at (0, 0) boxes ["w"[0:4:1, 0:4:1]] holds ["W"[0:4:1, 0:4:1] as "float8_e4m3fn"]
  spatial.pmu @x_0 input fifo bytes 32 buffers 2 boxes ["x"[0:2:1, 0:4:1] per_step]
  spatial.pmu @t_0 "lookup-table" duplicated bytes 512 buffers 1 lut ["tanh" 64 8.0 linear, "hard_sigmoid(alpha=0.2,beta=0.5)" 64 4.5 nearest]
  spatial.pcu @mr_0 map_reduce mode map_reduce "cell" lanes 4 counters ["d0" 0 to 4 step 1, "d1" 0 to 8 step 2] at (0, 1) {
    %0 = spatial.ctr "d0"
    %1 = spatial.ctr "k"
    %2 = spatial.op read stage 0 (%0, %1) memory "w" port vi0 offsets [0, 0]
    %3 = spatial.in vi1
    %4 = spatial.op mul stage 1 (%2, %3)
    spatial.reduce add -> so0 rv 4 ()
    spatial.segment "r0" 0 to 4 base 0 (%4)
    spatial.segment "r0" 4 to 4 base 0 ()
  }
  spatial.pcu @cb_0 combine mode elementwise "cell" lanes 1 counters [] {
    %5 = spatial.in si0
    %6 = spatial.in si1
    spatial.reduce add -> so0 rv 1 (%5, %6)
  }
  spatial.pcu @ew_0 elementwise mode elementwise "cell" lanes 2 counters [] copies [0, 1] {
    %7 = spatial.in si0, si1 field 1
    %8 = spatial.op tanh stage 0 (%7) lut @t_0
    spatial.emit vo0 (%8, %7)
  }
  spatial.pcu @idle elementwise mode elementwise "cell" lanes 1 counters []
  spatial.pcu @io elementwise mode elementwise "cell" lanes 1 counters [] {
    %9 = spatial.ctr "d0"
    %10 = spatial.op read stage 0 (%9) memory "w" port vi0, vi2 offsets [1]
    %11 = spatial.op const stage 0 () value 2.500000e-01 : f64
    %12 = spatial.op cmpi stage 0 (%9, %9) predicate 2
    %13 = spatial.op hard_sigmoid stage 1 (%10) alpha 0.2 beta 0.5
    %14 = spatial.op write stage 2 (%13, %9, %12) memory "y" port vo0 offsets [0] buffer_offset 1
  }
  spatial.stream @s0 vector @w_0.vo0 -> @mr_0.vi0
  spatial.stream @s1 vector @x_in.vo0 -> @mr_0.vi1 paths [(0, 0), (0, 1)]
  spatial.stream @s2 scalar @mr_0.so0 -> @cb_0.si0 paths [(0, 1), (0, 2), (1, 2)]
}

// CHECK:      spatial.design @main #spatial.arch<"tiny"> precision "fp32" {{{$}}
// CHECK-NEXT:   spatial.memory "x" dram [2, 4] element_bytes 4 buffers 1 init input "X"{{$}}
// CHECK-NEXT:   spatial.memory "w" sram [8, 4] element_bytes 1 buffers 1 init weight "W"{{$}}
// CHECK-NEXT:   spatial.memory "b" sram [8] element_bytes 4 buffers 1 init weight "n0.folded"{{$}}
// CHECK-NEXT:   spatial.memory "h" sram [4] element_bytes 4 buffers 2 init zero{{$}}
// CHECK-NEXT:   spatial.memory "y" dram [2, 4] element_bytes 4 buffers 1{{$}}
// CHECK-NEXT:   spatial.bind input "X" [2, 1, 4] "f32" to "x"{{$}}
// CHECK-NEXT:   spatial.bind input "unused" [1] "f32"{{$}}
// CHECK-NEXT:   spatial.bind output "Y" [2, 1, 4] "f32" to "y"{{$}}
// CHECK-NEXT:   spatial.nest "cell" [4, 8] par [1, 2]{{$}}
// CHECK-NEXT:   spatial.point "cell" hu 2 ru 1 rv 4{{$}}
// CHECK-NEXT:   spatial.phase once ["cell"]{{$}}
// CHECK-NEXT:   spatial.phase loop 2 ["cell"] posted [@x_0]{{$}}
// CHECK-NEXT:   spatial.ag @x_in left load "x" at (0, -1){{$}}
// CHECK-NEXT:   spatial.ag @w_in right load "w" boxes ["w"[0:4:1, 0:4:1], "w"[4:8:2, 0:4:1] per_step]{{$}}
// CHECK-NEXT:   spatial.pmu @w_0 weights strided bytes 64 buffers 1 at (0, 0) boxes ["w"[0:4:1, 0:4:1]] holds ["W"[0:4:1, 0:4:1] as "float8_e4m3fn"]{{$}}
// CHECK-NEXT:   spatial.pmu @x_0 input fifo bytes 32 buffers 2 boxes ["x"[0:2:1, 0:4:1] per_step]{{$}}
// CHECK-NEXT:   spatial.pmu @t_0 "lookup-table" duplicated bytes 512 buffers 1 lut ["tanh" 64 8.0 linear, "hard_sigmoid(alpha=0.2,beta=0.5)" 64 4.5 nearest]{{$}}
// CHECK-NEXT:   spatial.pcu @mr_0 map_reduce mode map_reduce "cell" lanes 4 counters ["d0" 0 to 4 step 1, "d1" 0 to 8 step 2] at (0, 1) {{{$}}
// CHECK-NEXT:     %0 = spatial.ctr "d0"{{$}}
// CHECK-NEXT:     %1 = spatial.ctr "k"{{$}}
// CHECK-NEXT:     %2 = spatial.op read stage 0 (%0, %1) memory "w" port vi0 offsets [0, 0]{{$}}
// CHECK-NEXT:     %3 = spatial.in vi1{{$}}
// CHECK-NEXT:     %4 = spatial.op mul stage 1 (%2, %3){{$}}
// CHECK-NEXT:     spatial.reduce add -> so0 rv 4 (){{$}}
// CHECK-NEXT:     spatial.segment "r0" 0 to 4 base 0 (%4){{$}}
// CHECK-NEXT:     spatial.segment "r0" 4 to 4 base 0 (){{$}}
// CHECK-NEXT:   }{{$}}
// CHECK-NEXT:   spatial.pcu @cb_0 combine mode elementwise "cell" lanes 1 counters [] {{{$}}
// CHECK-NEXT:     %5 = spatial.in si0{{$}}
// CHECK-NEXT:     %6 = spatial.in si1{{$}}
// CHECK-NEXT:     spatial.reduce add -> so0 rv 1 (%5, %6){{$}}
// CHECK-NEXT:   }{{$}}
// CHECK-NEXT:   spatial.pcu @ew_0 elementwise mode elementwise "cell" lanes 2 counters [] copies [0, 1] {{{$}}
// CHECK-NEXT:     %7 = spatial.in si0, si1 field 1{{$}}
// CHECK-NEXT:     %8 = spatial.op tanh stage 0 (%7) lut @t_0{{$}}
// CHECK-NEXT:     spatial.emit vo0 (%8, %7){{$}}
// CHECK-NEXT:   }{{$}}
// CHECK-NEXT:   spatial.pcu @idle elementwise mode elementwise "cell" lanes 1 counters []{{$}}
// CHECK-NEXT:   spatial.pcu @io elementwise mode elementwise "cell" lanes 1 counters [] {{{$}}
// CHECK-NEXT:     %9 = spatial.ctr "d0"{{$}}
// CHECK-NEXT:     %10 = spatial.op read stage 0 (%9) memory "w" port vi0, vi2 offsets [1]{{$}}
// CHECK-NEXT:     %11 = spatial.op const stage 0 () value 2.500000e-01 : f64{{$}}
// CHECK-NEXT:     %12 = spatial.op cmpi stage 0 (%9, %9) predicate 2{{$}}
// CHECK-NEXT:     %13 = spatial.op hard_sigmoid stage 1 (%10) alpha 0.2 beta 0.5{{$}}
// CHECK-NEXT:     %14 = spatial.op write stage 2 (%13, %9, %12) memory "y" port vo0 offsets [0] buffer_offset 1{{$}}
// CHECK-NEXT:   }{{$}}
// CHECK-NEXT:   spatial.stream @s0 vector @w_0.vo0 -> @mr_0.vi0{{$}}
// CHECK-NEXT:   spatial.stream @s1 vector @x_in.vo0 -> @mr_0.vi1 paths [(0, 0), (0, 1)]{{$}}
// CHECK-NEXT:   spatial.stream @s2 scalar @mr_0.so0 -> @cb_0.si0 paths [(0, 1), (0, 2), (1, 2)]{{$}}
// CHECK-NEXT: }{{$}}
