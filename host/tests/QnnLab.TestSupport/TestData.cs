using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace QnnLab.TestSupport;

/// <summary>
/// Locates the shared models and data sets: $QNN_DATA, else ../shared/data beside the checkout.
/// A test that needs a missing file is marked inconclusive (skipped) with the reason, never passed.
/// </summary>
public static class TestData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Root
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("QNN_DATA");
            return !string.IsNullOrEmpty(env) ? env : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
        }
    }

    /// <summary>Full path of a file under the data root; skips the calling test if it is missing.</summary>
    public static string Require(string relative)
    {
        string p = Path.Combine(Root, relative);
        if (!File.Exists(p) && !Directory.Exists(p))
        {
            Assert.Inconclusive($"needs shared data '{relative}' (not found under {Root}; set QNN_DATA)");
        }
        return p;
    }

    /// <summary>A fresh empty temporary folder for one test.</summary>
    public static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "qnnlab-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Removes a folder made by <see cref="TempDir"/> with all it holds (nothing if it is gone already).</summary>
    public static void RemoveTempDir(string dir)
    {
        if (dir.Length > 0 && Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string FindRepoRoot()
    {
        string? d = AppContext.BaseDirectory;
        while (d is not null && !File.Exists(Path.Combine(d, "Firmware.sln")))
        {
            d = Path.GetDirectoryName(d);
        }
        return d ?? throw new InvalidOperationException("cannot find the repository root (Firmware.sln) above " + AppContext.BaseDirectory);
    }
}
