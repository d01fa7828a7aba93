// rnnc sweep: one row per point (in the study's order) with the chosen design, units,
// predicted latency and bound, or the reason the point has none; bad studies are one
// diagnostic and no table.
// RUN: rnnc sweep %S/Inputs/sweep-tiny.yaml -o %t.csv --no-cache --workers 1 2>&1 | filecheck %s --check-prefix=SUMMARY
// RUN: filecheck %s --input-file %t.csv --check-prefix=TABLE
// SUMMARY: rnnc sweep: 4 points: 4 computed, 0 from the cache, 2 not ok

// TABLE:      point,model,source,cell,hidden,input,steps,batch,arch,arch_sha256,pcu.count,arch_pcus,arch_pmus,die_area_mm2,pipeline,objective,chips,run,precision,status,reason,design,pcus,pmus,chips_used,cycles_per_step,total_cycles,predicted_latency_ms,simulated_cycles,simulated_latency_ms,bound,compile_seconds
// TABLE-NEXT: 0,gru-32-2,gen,gru,32,32,2,1,plasticine-rnn,{{[0-9a-f]+}},192,192,384,494.37,fused,latency,1,search,mixed,ok,,{{[0-9]+/[0-9]+/[0-9]+}},{{[0-9]+}},{{[0-9]+}},1,{{[0-9]+}},{{[0-9]+}},{{[0-9.e-]+}},,,{{[a-z ]+}},{{[0-9.e-]+}}
// TABLE-NEXT: 1,gru-32-2,gen,gru,32,32,2,1,plasticine-rnn,{{[0-9a-f]+}},192,192,384,494.37,decomposed,latency,1,search,mixed,ok,,{{[0-9/ ]+}},{{[0-9]+}},{{[0-9]+}},1,{{[0-9]+}},{{[0-9]+}},{{[0-9.e-]+}},,,{{[a-z ]+}},{{[0-9.e-]+}}
// TABLE-NEXT: 2,gru-32-2,gen,gru,32,32,2,1,plasticine-rnn,,100,,,,fused,latency,1,search,,invalid-arch,fit_grid: 100 PCUs and 384 PMUs do not divide evenly over the grid's 24 rows,,,,,,,,,,,{{[0-9.e-]+}}
// TABLE-NEXT: 3,gru-32-2,gen,gru,32,32,2,1,plasticine-rnn,,100,,,,decomposed,latency,1,search,,invalid-arch,fit_grid: 100 PCUs and 384 PMUs do not divide evenly over the grid's 24 rows,,,,,,,,,,,{{[0-9.e-]+}}
// TABLE-NOT: {{.}}

// RUN: not rnnc sweep %S/Inputs/sweep-unknown-field.yaml -o %t.bad.csv 2>&1 | filecheck %s --check-prefix=FIELD
// RUN: not rnnc sweep %S/Inputs/sweep-grid-typo.yaml -o %t.bad.csv 2>&1 | filecheck %s --check-prefix=TYPO
// RUN: not rnnc sweep %S/Inputs/sweep-run-unknown.yaml -o %t.bad.csv 2>&1 | filecheck %s --check-prefix=LEVEL
// RUN: not test -e %t.bad.csv
// FIELD: sweep-unknown-field.yaml: error: field 'engine': unknown field (allowed: $schema, architectures, chips, description, models, name, objectives, pipelines, precisions, run)
// TYPO: sweep-grid-typo.yaml: error: field 'architectures.0.grid.network.links_per_switch.vectors': no such architecture field (network.links_per_switch has: control, scalar, vector)
// LEVEL: sweep-run-unknown.yaml: error: field 'run': expected one of "search", "config", "sim", got "route"
