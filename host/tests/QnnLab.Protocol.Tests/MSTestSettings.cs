// Process-level tests (sim board, QEMU) share 2 cores with everyone: run classes one at a time.
[assembly: DoNotParallelize]
