// The CLI writes to the process-wide Console, which the harness swaps for each run: one test at a time.
[assembly: DoNotParallelize]
