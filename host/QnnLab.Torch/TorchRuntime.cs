using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Security.Cryptography;
using TorchSharp;

namespace QnnLab.Torch;

/// <summary>libtorch could not be loaded; the message says what was tried and why it failed.</summary>
public sealed class TorchRuntimeException : Exception
{
    public TorchRuntimeException(string message) : base(message) { }
    public TorchRuntimeException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Loads TorchSharp's native backend before the first torch call. On systems whose libstdc++ is
/// older than the one libLibTorchSharp.so was linked against (Debian 12: GLIBCXX_3.4.30 vs 3.4.32)
/// the library refuses to load, and TorchSharp reports a misleading "doesn't contain a reference to
/// libtorch-cpu-linux-x64". The only symbol that needs the newer version is never called, so we
/// load a copy whose requirement is marked weak, and point TorchSharp at it.
/// </summary>
public static class TorchRuntime
{
    private const string TorchSharpLib = "libLibTorchSharp.so";

    // Symbols that bind to a missing libstdc++ version but are never called at run time:
    // GCC 13 references ios_base_library_init from every TU that includes <iostream> only to
    // force the link order; the iostreams are initialised by libstdc++ itself.
    private static readonly HashSet<string> NeverCalledSymbols = ["_ZSt21ios_base_library_initv"];

    private static readonly Lock Gate = new();
    private static bool _loaded;
    private static IntPtr _patchedHandle;

    /// <summary>How the backend was loaded (for diagnostics and the CLI's about text).</summary>
    public static string LoadReport { get; private set; } = "not loaded";

    /// <summary>Path of the patched copy, or null when the original loaded as is.</summary>
    public static string? PatchedLibraryPath { get; private set; }

    /// <summary>
    /// Default number of intra-op threads: $QNN_TORCH_THREADS, else 1 (two threads collapse when
    /// the machine's two cores are shared with other processes).
    /// </summary>
    public static int DefaultThreads
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("QNN_TORCH_THREADS");
            return int.TryParse(env, out int n) && n > 0 ? n : 1;
        }
    }

    /// <summary>
    /// Makes libtorch usable in this process (idempotent) and sets the thread count. Call it before
    /// the first use of TorchSharp: a torch call that comes first fails TorchSharp's static
    /// initializer, and that failure is permanent for the process.
    /// </summary>
    public static void EnsureLoaded(int? threads = null)
    {
        lock (Gate)
        {
            if (!_loaded)
            {
                Load();
                _loaded = true;
                torch.set_num_threads(threads ?? DefaultThreads);
            }
            else if (threads is int t)
            {
                SetThreads(t);
            }
        }
    }

    public static void SetThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        EnsureLoaded();
        torch.set_num_threads(threads);
    }

    public static int Threads
    {
        get
        {
            EnsureLoaded();
            return torch.get_num_threads();
        }
    }

    private static void Load()
    {
        string? patchNote = null;
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64)
        {
            patchNote = PrepareLinux();
        }
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            using torch.Tensor probe = torch.ones(2) + 1;
            if (probe.sum().item<float>() != 4f)
            {
                throw new TorchRuntimeException("libtorch loaded but computes 1+1 wrongly");
            }
        }
        catch (Exception e) when (e is not TorchRuntimeException)
        {
            throw new TorchRuntimeException(
                "libtorch (TorchSharp " + typeof(torch).Assembly.GetName().Version + ") could not be loaded. " +
                (patchNote ?? "No libstdc++ version patch was attempted.") +
                " Check that the libtorch-cpu-linux-x64 native files sit in the application's runtimes/linux-x64/native folder. " +
                "TorchSharp said: " + FirstLines(e.Message, 6), e);
        }
        LoadReport = patchNote ?? "loaded as shipped";
    }

    /// <summary>Returns a note on what was done, or null when nothing was needed.</summary>
    private static string? PrepareLinux()
    {
        string? nativeDir = FindNativeDirectory();
        if (nativeDir is null)
        {
            // TorchSharp's own probing will produce its error; we have nothing to patch.
            return "Could not find " + TorchSharpLib + " beside the application.";
        }
        string original = Path.Combine(nativeDir, TorchSharpLib);
        ElfVersionInfo lib = ElfVersionInfo.Load(original);
        string? stdcxxPath = LoadedLibraryPath("libstdc++.so.6");
        if (stdcxxPath is null)
        {
            return "Could not locate the system libstdc++.so.6 to compare versions.";
        }
        IReadOnlySet<string> provided = ElfVersionInfo.Load(stdcxxPath).Definitions;
        List<ElfVersionNeed> missing = lib.Needs
            .Where(n => n.File == "libstdc++.so.6" && !n.IsWeak && !provided.Contains(n.Version))
            .ToList();
        if (missing.Count == 0)
        {
            return null;
        }

        foreach (ElfVersionNeed need in missing)
        {
            List<string> users = lib.SymbolsUsingVersion(need.Index).Where(s => !NeverCalledSymbols.Contains(s)).ToList();
            if (users.Count > 0)
            {
                throw new TorchRuntimeException(
                    $"{original} needs {need.Version} from libstdc++.so.6, which {stdcxxPath} lacks, and symbols that are really called use it " +
                    $"({string.Join(", ", users.Take(5))}). Install a newer libstdc++ (GCC 13+) or use a libtorch/TorchSharp build for this system.");
            }
            lib.Weaken(need);
        }

        string patched = WritePatchedCopy(original, lib.Image);
        string versions = string.Join(", ", missing.Select(m => m.Version));

        // Preload by full path: the copy's RUNPATH ($ORIGIN) no longer points at libtorch, but
        // DT_NEEDED entries match already-loaded libraries by soname.
        foreach (string dep in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
        {
            string p = Path.Combine(nativeDir, dep);
            if (File.Exists(p) && !NativeLibrary.TryLoad(p, out _))
            {
                throw new TorchRuntimeException($"cannot load {p} (needed by {TorchSharpLib}); is the libtorch-cpu-linux-x64 package complete?");
            }
        }
        try
        {
            _patchedHandle = NativeLibrary.Load(patched);
        }
        catch (DllNotFoundException e)
        {
            throw new TorchRuntimeException($"{patched} (a copy of {original} with {versions} marked weak) still does not load: {e.Message}", e);
        }
        PatchedLibraryPath = patched;

        // TorchSharp loads "LibTorchSharp" by name: serve our handle for its P/Invokes, and for its
        // explicit NativeLibrary.TryLoad when the default probe hits the unpatched file and fails.
        Assembly torchAssembly = typeof(torch).Assembly;
        try
        {
            NativeLibrary.SetDllImportResolver(torchAssembly, (name, _, _) => IsTorchSharpLib(name) ? _patchedHandle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already set (by the host or TorchSharp); the event below still covers us.
        }
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += (asm, name) => asm == torchAssembly && IsTorchSharpLib(name) ? _patchedHandle : IntPtr.Zero;
        return $"{stdcxxPath} lacks {versions} needed by {TorchSharpLib}; loaded a copy with that need marked weak: {patched}.";
    }

    private static bool IsTorchSharpLib(string name) => name is "LibTorchSharp" or "libLibTorchSharp" or TorchSharpLib;

    /// <summary>The folder holding libLibTorchSharp.so and libtorch_cpu.so, as the runtime would probe.</summary>
    private static string? FindNativeDirectory()
    {
        var candidates = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string dirs)
        {
            candidates.AddRange(dirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        }
        string baseDir = AppContext.BaseDirectory;
        candidates.Add(baseDir);
        candidates.Add(Path.Combine(baseDir, "runtimes", "linux-x64", "native"));
        string? torchDir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (!string.IsNullOrEmpty(torchDir))
        {
            candidates.Add(torchDir);
            candidates.Add(Path.Combine(torchDir, "runtimes", "linux-x64", "native"));
        }
        return candidates.FirstOrDefault(d =>
            File.Exists(Path.Combine(d, TorchSharpLib)) && File.Exists(Path.Combine(d, "libtorch_cpu.so")));
    }

    /// <summary>Path of a shared library mapped into this process (loading it first if needed).</summary>
    private static string? LoadedLibraryPath(string soname)
    {
        NativeLibrary.TryLoad(soname, out _);
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            // maps shows the resolved file (libstdc++.so.6.0.30), so match the soname as a prefix.
            int slash = line.IndexOf('/');
            if (slash >= 0 && Path.GetFileName(line.AsSpan(slash)).StartsWith(soname, StringComparison.Ordinal))
            {
                return line[slash..];
            }
        }
        return null;
    }

    /// <summary>
    /// Writes the patched image into the cache ($QNN_CACHE, else beside the application, else the
    /// temp folder when the application folder is read-only) under a name tied to the original's hash.
    /// </summary>
    private static string WritePatchedCopy(string original, byte[] patchedImage)
    {
        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(original)))[..16];
        string name = $"libLibTorchSharp-{hash}-weak.so";
        string? cacheRoot = Environment.GetEnvironmentVariable("QNN_CACHE");
        string[] folders = string.IsNullOrEmpty(cacheRoot)
            ? [Path.Combine(AppContext.BaseDirectory, "qnn-cache", "torch-native"), Path.Combine(Path.GetTempPath(), "qnnlab-cache", "torch-native")]
            : [Path.Combine(cacheRoot, "torch-native")];
        var problems = new List<string>();
        foreach (string dir in folders)
        {
            string target = Path.Combine(dir, name);
            try
            {
                if (File.Exists(target) && File.ReadAllBytes(target).AsSpan().SequenceEqual(patchedImage))
                {
                    return target;
                }
                Directory.CreateDirectory(dir);
                // Parallel processes may race here: write a private temp file, then rename atomically.
                string temp = target + "." + Environment.ProcessId + ".tmp";
                File.WriteAllBytes(temp, patchedImage);
                File.Move(temp, target, overwrite: true);
                return target;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add($"{dir}: {e.Message}");
            }
        }
        throw new TorchRuntimeException("cannot write the patched copy of " + TorchSharpLib + ": " + string.Join("; ", problems) + " (set QNN_CACHE to a writable folder)");
    }

    private static string FirstLines(string text, int lines)
        => string.Join('\n', text.Split('\n').Take(lines));
}
