using QnnLab.Torch;
using TorchSharp;

namespace QnnLab.Torch.Tests;

[TestClass]
public sealed class TorchRuntimeTests
{
    [TestMethod]
    public void LoadsLibtorchAndComputes()
    {
        TorchRuntime.EnsureLoaded();
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = torch.tensor(new float[] { 5, 6, 7, 8 }).reshape(2, 2);
        using var c = torch.matmul(a, b);
        // [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]]
        CollectionAssert.AreEqual(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
        Assert.AreEqual(TorchRuntime.DefaultThreads, TorchRuntime.Threads, "one intra-op thread unless QNN_TORCH_THREADS says otherwise");
        Console.WriteLine(TorchRuntime.LoadReport);
    }

    [TestMethod]
    public void VersionNeedsOfTheShippedLibraryAreReadAndWeakened()
    {
        TorchRuntime.EnsureLoaded();
        string original = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!File.Exists(original))
        {
            Assert.Inconclusive("libLibTorchSharp.so is not in runtimes/linux-x64/native on this platform");
        }
        var elf = ElfVersionInfo.Load(original);
        // readelf -V lists 20 libstdc++ needs for this build, among them GLIBCXX_3.4.32 (not weak).
        ElfVersionNeed need = elf.Needs.Single(n => n.File == "libstdc++.so.6" && n.Version == "GLIBCXX_3.4.32");
        Assert.IsFalse(need.IsWeak);
        Assert.AreEqual(20, elf.Needs.Count(n => n.File == "libstdc++.so.6"));
        CollectionAssert.AreEqual(new[] { "_ZSt21ios_base_library_initv" }, elf.SymbolsUsingVersion(need.Index).ToArray());

        byte[] before = (byte[])elf.Image.Clone();
        elf.Weaken(need);
        var reread = new ElfVersionInfo(elf.Image, "patched");
        Assert.IsTrue(reread.Needs.Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);
        Assert.AreEqual(elf.Needs.Count, reread.Needs.Count);
        // Exactly one byte differs: the low byte of vna_flags.
        int changed = before.Zip(elf.Image).Count(p => p.First != p.Second);
        Assert.AreEqual(1, changed);

        if (TorchRuntime.PatchedLibraryPath is string patched)
        {
            Assert.IsTrue(ElfVersionInfo.Load(patched).Needs.Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);
        }
    }

    [TestMethod]
    public void ReadsVersionDefinitionsOfTheSystemLibstdcxx()
    {
        string? lib = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" }.FirstOrDefault(File.Exists);
        if (lib is null)
        {
            Assert.Inconclusive("no system libstdc++.so.6 at the usual paths");
        }
        var elf = ElfVersionInfo.Load(lib);
        // Every libstdc++ since GCC 3.4 defines these; a parser that walks Verdef wrongly misses them.
        Assert.Contains("GLIBCXX_3.4", elf.Definitions);
        Assert.Contains("CXXABI_1.3", elf.Definitions);
        Assert.IsGreaterThan(20, elf.Definitions.Count);
    }
}
