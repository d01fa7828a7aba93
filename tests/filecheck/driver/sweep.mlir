// rnnc sweep: one row per point (in the study's order) with the chosen design, units,
// predicted latency and bound, or the reason the point has none; bad studies are one
// diagnostic and no table.
// Off a terminal, one line per finished point with its status (nothing measured: with one
// worker the same bytes each time), then the summary and each not-ok point with its reason.
// RUN: rnnc sweep %S/Inputs/sweep-tiny.yaml -o %t.csv --no-cache --workers 1 2> %t.log
// RUN: filecheck %s --input-file %t.log --check-prefix=LOG --match-full-lines --strict-whitespace
// RUN: rnnc sweep %S/Inputs/sweep-tiny.yaml -o %t.again.csv --no-cache --workers 1 2> %t.again.log
// RUN: cmp %t.log %t.again.log
// RUN: filecheck %s --input-file %t.csv --check-prefix=TABLE
// LOG:rnnc sweep: computing 4 of 4 points (0 from the cache)
// LOG-NEXT:[1/4] point 0 (gru-32-2, plasticine-rnn pmu.banks=16, fused): ok
// LOG-NEXT:[2/4] point 1 (gru-32-2, plasticine-rnn pmu.banks=16, decomposed): ok
// LOG-NEXT:[3/4] point 2 (gru-32-2, plasticine-rnn pmu.banks=1, fused): invalid-arch
// LOG-NEXT:[4/4] point 3 (gru-32-2, plasticine-rnn pmu.banks=1, decomposed): invalid-arch
// LOG-NEXT:rnnc sweep: 4 points: 4 computed, 0 from the cache, 2 not ok
// LOG-NEXT:  point 2 (gru-32-2, plasticine-rnn pmu.banks=1, fused): invalid-arch: field 'pmu.banks': expected banks x bank_width_bits >= 512 (one PMU feeds a PCU's 16 32-bit lanes every cycle), got 1 x 32
// LOG-NEXT:  point 3 (gru-32-2, plasticine-rnn pmu.banks=1, decomposed): invalid-arch: field 'pmu.banks': expected banks x bank_width_bits >= 512 (one PMU feeds a PCU's 16 32-bit lanes every cycle), got 1 x 32
// LOG-NOT:{{.}}

// TABLE:      point,model,source,cell,hidden,input,steps,batch,arch,arch_sha256,pmu.banks,arch_pcus,arch_pmus,die_area_mm2,pipeline,objective,chips,run,precision,status,reason,design,pcus,pmus,chips_used,cycles_per_step,total_cycles,predicted_latency_ms,simulated_cycles,simulated_latency_ms,error,bound,compile_seconds
// TABLE-NEXT: 0,gru-32-2,gen,gru,32,32,2,1,plasticine-rnn,{{[0-9a-f]+}},16,192,384,494.37,fused,latency,1,search,mixed,ok,,{{[0-9]+/[0-9]+/[0-9]+}},{{[0-9]+}},{{[0-9]+}},1,{{[0-9]+}},{{[0-9]+}},{{[0-9.e-]+}},,,,{{[a-z ]+}},{{[0-9.e-]+}}
// TABLE-NEXT: 1,gru-32-2,gen,gru,32,32,2,1,plasticine-rnn,{{[0-9a-f]+}},16,192,384,494.37,decomposed,latency,1,search,mixed,ok,,{{[0-9/ ]+}},{{[0-9]+}},{{[0-9]+}},1,{{[0-9]+}},{{[0-9]+}},{{[0-9.e-]+}},,,,{{[a-z ]+}},{{[0-9.e-]+}}
// TABLE-NEXT: 2,gru-32-2,gen,gru,32,32,2,1,plasticine-rnn,,1,,,,fused,latency,1,search,,invalid-arch,"field 'pmu.banks': expected banks x bank_width_bits >= 512 (one PMU feeds a PCU's 16 32-bit lanes every cycle), got 1 x 32",,,,,,,,,,,,{{[0-9.e-]+}}
// TABLE-NEXT: 3,gru-32-2,gen,gru,32,32,2,1,plasticine-rnn,,1,,,,decomposed,latency,1,search,,invalid-arch,"field 'pmu.banks': expected banks x bank_width_bits >= 512 (one PMU feeds a PCU's 16 32-bit lanes every cycle), got 1 x 32",,,,,,,,,,,,{{[0-9.e-]+}}
// TABLE-NOT: {{.}}

// Grid values that the grid's layout cannot hold are refused before anything runs, with
// the fit_grid hint.
// RUN: not rnnc sweep %S/Inputs/sweep-tile.yaml -o %t.bad.csv 2>&1 | filecheck %s --check-prefix=TILE
// RUN: not rnnc sweep %S/Inputs/sweep-fit-grid.yaml -o %t.bad.csv 2>&1 | filecheck %s --check-prefix=FIT
// TILE: sweep-tile.yaml: error: field 'architectures.0.grid': pcu.count=96 does not fit the grid's layout (field 'pcu.count': expected 192 (the PCU sites of the 24x24 grid tiled with {{\[\["pmu", "pcu", "pmu"\]\]}}), got 96): add 'fit_grid: true' to architectures.0 to lay the grid out anew for each variant's counts
// TILE-NOT: {{.}}
// FIT: sweep-fit-grid.yaml: error: field 'architectures.0.grid': pcu.count=100 does not fit the grid's layout (fit_grid: 100 PCUs and 384 PMUs do not divide evenly over the grid's 24 rows): with fit_grid, give counts that are multiples of the grid's 24 rows
// FIT-NOT: {{.}}

// RUN: not rnnc sweep %S/Inputs/sweep-unknown-field.yaml -o %t.bad.csv 2>&1 | filecheck %s --check-prefix=FIELD
// RUN: not rnnc sweep %S/Inputs/sweep-grid-typo.yaml -o %t.bad.csv 2>&1 | filecheck %s --check-prefix=TYPO
// RUN: not rnnc sweep %S/Inputs/sweep-run-unknown.yaml -o %t.bad.csv 2>&1 | filecheck %s --check-prefix=LEVEL
// RUN: not test -e %t.bad.csv
// FIELD: sweep-unknown-field.yaml: error: field 'engine': unknown field (allowed: $schema, architectures, chips, description, models, name, objectives, pipelines, precisions, run)
// TYPO: sweep-grid-typo.yaml: error: field 'architectures.0.grid.network.links_per_switch.vectors': no such architecture field (network.links_per_switch has: control, scalar, vector)
// LEVEL: sweep-run-unknown.yaml: error: field 'run': expected one of "search", "config", "sim", got "route"
