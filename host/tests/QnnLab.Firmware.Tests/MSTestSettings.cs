// These tests build the C core and run its tools on 2 shared cores: one class at a time.
[assembly: DoNotParallelize]
