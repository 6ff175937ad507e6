"""Pure, vectorised model functions: population, graphs, behaviour, KPI gate, metrics."""
