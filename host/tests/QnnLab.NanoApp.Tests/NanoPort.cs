using System.Reflection;
using System.Runtime.InteropServices;
using QnnLab.Firmware;
using QnnLab.NanoApp;
using QnnLab.TestSupport;

namespace QnnLab.NanoApp.Tests;

/// <summary>
/// The nanoFramework interop's C half (firmware/nanoframework/interop/qnn_nano_port.c) with the protocol engine
/// and the real device core behind it, built for x86 as libqnn_nano_host.so and called the way the nanoCLR natives
/// call it: the same functions, given pointers into pinned managed arrays. The process holds one instance (static C
/// state, like the board), so the test classes that use it do not run in parallel with each other.
/// </summary>
internal static unsafe partial class NanoPort
{
    private const string Library = "qnn_nano_host";

    private static readonly Lazy<(string? Path, string? Missing)> Built = new(Build);

    static NanoPort()
    {
        NativeLibrary.SetDllImportResolver(typeof(NanoPort).Assembly, Resolve);
    }

    /// <summary>The built library; Inconclusive only when the tools to build it are missing, a build failure fails.</summary>
    public static void Require()
    {
        (string? path, string? missing) = Built.Value;
        if (path is null)
        {
            Assert.Inconclusive($"cannot build the nanoFramework port for x86: {missing} not found on PATH");
        }
    }

    private static (string? Path, string? Missing) Build()
    {
        string? cmake = OnPath("cmake");
        string? compiler = OnPath("gcc") ?? OnPath("cc");
        string? ninja = OnPath("ninja");
        string? make = OnPath("make");
        if (cmake is null || compiler is null || (ninja is null && make is null))
        {
            return (null, cmake is null ? "cmake" : compiler is null ? "gcc/cc" : "ninja or make");
        }
        string dir = Path.Combine(TestData.RepoRoot, "build", "tests", "nano-native");
        var configure = new List<string> { "-S", Path.Combine(TestData.RepoRoot, "firmware"), "-B", dir, "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF" };
        if (!File.Exists(Path.Combine(dir, "CMakeCache.txt")))
        {
            configure.AddRange(["-G", ninja is not null ? "Ninja" : "Unix Makefiles"]);
        }
        // A failing build is a failing test (RunChecked throws with the compiler's output), not a skip.
        Tool.RunChecked(cmake, configure);
        Tool.RunChecked(cmake, ["--build", dir, "--target", "qnn_nano_host"]);
        string lib = Path.Combine(dir, "nanoframework", "interop", "libqnn_nano_host.so");
        Assert.IsTrue(File.Exists(lib), $"the build made no {lib}");
        return (lib, null);
    }

    private static string? OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }
        Require();
        return NativeLibrary.Load(Built.Value.Path!);
    }

    // ---- the port (qnn_nano_port.h) ----

    [LibraryImport(Library, EntryPoint = "qnn_nano_init")]
    public static partial int Init();

    [LibraryImport(Library, EntryPoint = "qnn_nano_load_model")]
    private static partial int LoadModel(byte* blob, uint len);

    [LibraryImport(Library, EntryPoint = "qnn_nano_select_model_at")]
    public static partial int SelectModelAt(uint address, uint len);

    [LibraryImport(Library, EntryPoint = "qnn_nano_model_info")]
    private static partial int ModelInfo(int* fields, uint n);

    [LibraryImport(Library, EntryPoint = "qnn_nano_infer")]
    private static partial int Infer(byte* pixels, uint len, int* logits, uint cap);

    [LibraryImport(Library, EntryPoint = "qnn_nano_configure_squeezing")]
    public static partial int ConfigureSqueezing(int bitDepth, int medianSize, float threshold);

    [LibraryImport(Library, EntryPoint = "qnn_nano_last_detector_score")]
    public static partial float LastDetectorScore();

    [LibraryImport(Library, EntryPoint = "qnn_nano_cycles")]
    public static partial uint Cycles();

    [LibraryImport(Library, EntryPoint = "qnn_nano_stage_cycles")]
    private static partial int StageCycles(uint* cycles, uint n);

    [LibraryImport(Library, EntryPoint = "qnn_nano_protocol_feed")]
    private static partial int ProtocolFeed(byte* rx, uint len);

    [LibraryImport(Library, EntryPoint = "qnn_nano_protocol_poll")]
    private static partial int ProtocolPoll(byte* tx, uint cap);

    [LibraryImport(Library, EntryPoint = "qnn_nano_tx_overflow_bytes")]
    public static partial uint TxOverflowBytes();

    // ---- the host board's test hooks (interop/host/qnn_nano_host_board.c) ----

    [LibraryImport(Library, EntryPoint = "qnn_nano_host_flash")]
    private static partial uint Flash(byte* blob, uint len);

    [LibraryImport(Library, EntryPoint = "qnn_nano_host_flash_erase")]
    public static partial void FlashErase();

    [LibraryImport(Library, EntryPoint = "qnn_nano_host_boots")]
    public static partial uint Boots();

    // ---- the nanoCLR natives' marshalling: arrays pinned, lengths from the managed side ----

    public static int LoadModel(byte[] blob)
    {
        fixed (byte* p = blob)
        {
            return LoadModel(p, (uint)blob.Length);
        }
    }

    public static int ModelInfo(int[] fields)
    {
        fixed (int* p = fields)
        {
            return ModelInfo(p, (uint)fields.Length);
        }
    }

    public static int Infer(byte[] pixels, int count, int[] logits)
    {
        fixed (byte* px = pixels)
        fixed (int* l = logits)
        {
            return Infer(px, (uint)count, l, (uint)logits.Length);
        }
    }

    public static int StageCycles(uint[] cycles)
    {
        fixed (uint* p = cycles)
        {
            return StageCycles(p, (uint)cycles.Length);
        }
    }

    public static uint Flash(byte[] blob)
    {
        fixed (byte* p = blob)
        {
            return Flash(p, (uint)blob.Length);
        }
    }

    public static int Feed(byte[] rx, int count)
    {
        fixed (byte* p = rx)
        {
            return ProtocolFeed(p, (uint)count);
        }
    }

    public static int Poll(byte[] tx)
    {
        fixed (byte* p = tx)
        {
            return ProtocolPoll(p, (uint)tx.Length);
        }
    }
}

/// <summary>What NativeProtocolEngine does on the board (QnnDevice.ProtocolFeed/Poll): the natives' results, negative ones thrown.</summary>
internal sealed class NativePortEngine : IProtocolEngine
{
    public int Feed(byte[] rx, int count) => Checked(NanoPort.Feed(rx, count), "protocol feed");

    public int Poll(byte[] tx) => Checked(NanoPort.Poll(tx), "protocol poll");

    private static int Checked(int status, string what) =>
        status >= 0 ? status : throw new InvalidOperationException($"QNN {status}: {what} failed");
}
