using QnnLab.Torch;

// libtorch's thread setting is process-wide and the CI machine has two cores: run tests one at a time.
[assembly: DoNotParallelize]

namespace QnnLab.Attacks.Tests;

[TestClass]
public static class TorchSetup
{
    /// <summary>Before any test touches TorchSharp: its static initializer fails for good otherwise.</summary>
    [AssemblyInitialize]
    public static void LoadLibtorch(TestContext _) => TorchRuntime.EnsureLoaded();
}
