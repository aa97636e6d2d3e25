using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QnnLab.Engine;

/// <summary>Which kernels an engine runs: the best the CPU has, or one path forced (for tests and comparisons).</summary>
public enum KernelPath
{
    /// <summary>The fastest vector kernels this CPU runs for each operator; scalar reference kernels for the rest.</summary>
    Auto,
    /// <summary>Only the scalar reference kernels (portable; the yardstick for the vectorised ones).</summary>
    Reference,
    /// <summary>Cross-platform <see cref="Vector128"/> code for the int8 GEMM (the arm64 fallback), reference kernels elsewhere.</summary>
    Portable,
    /// <summary>AVX2 only: the int8 GEMM on VPMADDWD over int16-widened operands (a CPU without any VNNI).</summary>
    Avx2,
    /// <summary>AVX2 plus AVX-512BW: the int8 GEMM on 512-bit VPMADDWD (AVX-512 servers without the VEX AVX-VNNI).</summary>
    Avx512,
    /// <summary>AVX2 plus AVX-VNNI: the int8 GEMM on VPDPBUSD, the 16x8 GEMM on VPDPWSSD.</summary>
    AvxVnni,
}

/// <summary>The instruction sets an engine's kernels may use, resolved once from a <see cref="KernelPath"/>.</summary>
public readonly record struct KernelIsa(bool Portable, bool Avx2, bool Avx512, bool AvxVnni)
{
    public const string ReferenceName = "reference";
    public const string PortableName = "portable";
    public const string Avx2Name = "avx2";
    public const string Avx512Name = "avx512bw";
    public const string AvxVnniName = "avx-vnni";

    /// <summary>What this CPU (as the runtime reports it, after any DOTNET_Enable* switch) can execute.</summary>
    public static KernelIsa Cpu => new(Vector128.IsHardwareAccelerated, System.Runtime.Intrinsics.X86.Avx2.IsSupported,
        System.Runtime.Intrinsics.X86.Avx2.IsSupported && Avx512BW.IsSupported,
        System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.AvxVnni.IsSupported);

    /// <summary>True when this CPU can run <paramref name="path"/>.</summary>
    public static bool IsAvailable(KernelPath path)
    {
        KernelIsa cpu = Cpu;
        return path switch
        {
            KernelPath.Portable => cpu.Portable,
            KernelPath.Avx2 => cpu.Avx2,
            KernelPath.Avx512 => cpu.Avx512,
            KernelPath.AvxVnni => cpu.AvxVnni,
            _ => true,
        };
    }

    /// <summary>The forced paths this CPU can run, slowest first (the tests run each against the reference).</summary>
    public static IReadOnlyList<KernelPath> AvailablePaths
        => [.. new[] { KernelPath.Portable, KernelPath.Avx2, KernelPath.Avx512, KernelPath.AvxVnni }.Where(IsAvailable)];

    /// <summary>
    /// The instruction sets for <paramref name="path"/>; a forced path this CPU lacks is an error naming it.
    /// Auto prefers AVX-VNNI, then AVX-512BW, then AVX2, then portable code for the int8 GEMM.
    /// </summary>
    public static KernelIsa For(KernelPath path)
    {
        if (!IsAvailable(path))
        {
            throw new PlatformNotSupportedException($"kernel path '{Name(path)}' needs instructions this CPU (or the runtime's DOTNET_Enable* settings) does not provide");
        }
        KernelIsa cpu = Cpu;
        return path switch
        {
            KernelPath.Auto => cpu,
            KernelPath.Reference => default,
            KernelPath.Portable => new(true, false, false, false),
            KernelPath.Avx2 => new(true, true, false, false),
            KernelPath.Avx512 => new(true, true, true, false),
            _ => new(true, true, false, true),
        };
    }

    /// <summary>The name a path has on the command line and in reports.</summary>
    public static string Name(KernelPath path) => path switch
    {
        KernelPath.Auto => "auto",
        KernelPath.Reference => ReferenceName,
        KernelPath.Portable => PortableName,
        KernelPath.Avx2 => Avx2Name,
        KernelPath.Avx512 => Avx512Name,
        _ => AvxVnniName,
    };

    /// <summary>Parses a command-line path name (auto, reference, portable, avx2, avx512bw, avx-vnni).</summary>
    public static KernelPath Parse(string name)
    {
        foreach (KernelPath p in Enum.GetValues<KernelPath>())
        {
            if (string.Equals(Name(p), name, StringComparison.OrdinalIgnoreCase))
            {
                return p;
            }
        }
        throw new ArgumentException($"unknown kernel path '{name}' (auto, reference, portable, avx2, avx512bw, avx-vnni)");
    }
}
