using System.Runtime.InteropServices;

namespace QnnLab.Engine;

/// <summary>The CPU a figure was measured on: its model name and the vector instruction sets the runtime exposes.</summary>
public static class CpuInfo
{
    /// <summary>"model name" from /proc/cpuinfo (Linux), else the process architecture.</summary>
    public static string ModelName
    {
        get
        {
            try
            {
                if (File.Exists("/proc/cpuinfo"))
                {
                    foreach (string line in File.ReadLines("/proc/cpuinfo"))
                    {
                        if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int i and > 0)
                        {
                            return line[(i + 1)..].Trim();
                        }
                    }
                }
            }
            catch (IOException)
            {
                // Fall through to the architecture: the name is a label, not a requirement.
            }
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    /// <summary>The forced kernel paths this CPU can run, e.g. "portable avx2 avx512bw avx-vnni".</summary>
    public static string KernelPaths => string.Join(" ", KernelIsa.AvailablePaths.Select(KernelIsa.Name));

    /// <summary>Logical processors the process may use.</summary>
    public static int Cores => Environment.ProcessorCount;
}
