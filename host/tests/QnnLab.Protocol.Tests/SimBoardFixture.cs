using QnnLab.Protocol;
using QnnLab.TestSupport;

namespace QnnLab.Protocol.Tests;

/// <summary>Builds the sim board (CMake + the host C compiler) once per test run.</summary>
internal static class SimBoardFixture
{
    private static readonly Lazy<(string? Path, string? Why)> Built = new(() =>
    {
        try
        {
            return (SimBoard.Build(TestData.RepoRoot, Path.Combine(TestData.RepoRoot, "build", "tests", "sim")), null);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return (null, e.Message);
        }
    });

    public static string Executable
    {
        get
        {
            (string? path, string? why) = Built.Value;
            if (path is null)
            {
                Assert.Inconclusive($"cannot build the sim board (needs cmake and a C compiler): {why}");
            }
            return path!;
        }
    }

    public static async Task<(SimBoard Board, BoardConnection Connection)> StartStdioAsync(SimBoardOptions? options = null,
        BoardConnectionOptions? connection = null)
    {
        SimBoard board = await SimBoard.StartAsync(Executable, (options ?? new SimBoardOptions()) with { Stdio = true });
        try
        {
            BoardConnection c = await BoardConnection.OpenAsync(board.StdioStream, connection ?? new BoardConnectionOptions
            {
                ResponseTimeout = TimeSpan.FromMilliseconds(300),
            });
            return (board, c);
        }
        catch
        {
            await board.DisposeAsync();
            throw;
        }
    }
}
