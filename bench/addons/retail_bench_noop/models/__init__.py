from . import retail_bench_row
