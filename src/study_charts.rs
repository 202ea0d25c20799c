//! Charts of many runs: sweep metrics against parameters, cost against p99
//! with its Pareto frontier, heatmaps of two-parameter grids, and capacity
//! charts.
