using QnnLab.Attacks;
using QnnLab.Attacks.Targets;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.HilTests.Tests;

/// <summary>
/// The board as the oracle of a score-based attack (paper Section 3.1, direct attacks): the board is bit-exact, so
/// Square-Linf with the same seed must produce the very same adversarial examples and query counts on the board as on
/// the host int8 engine; that is what makes a board-in-the-loop attack checkable.
/// </summary>
[TestClass]
public sealed class BoardOracleTests
{
    [TestMethod]
    public async Task SquareLinfWithTheBoardAsOracle_EqualsTheHostEngineByteForByte()
    {
        int n = HilBoard.Target.Kind == QnnLab.Hil.BoardKind.Sim ? 8 : 3;
        ImageSet set = HilBoard.Cifar(n);
        float[] x = set.Pixels!.Select(p => p / 255f).ToArray();
        int[] y = [.. set.Labels];
        string path = HilBoard.Model("int8");
        QnnModel model = ModelFiles.Load(path);

        static Attack Square()
        {
            Attack a = AttackCatalog.Create("square-linf");
            a.ApplyPreset("cifar10");
            a.Parameters.Set("max_iter", "30");
            return a;
        }

        using var host = new IntegerTarget(model);
        float[] onHost = Square().Generate(host, x, y, n, seed: 7);
        using BoardOracle board = await HilBoard.OpenOracleAsync(path, model.Preprocessing);
        float[] onBoard = Square().Generate(board, x, y, n, seed: 7);

        CollectionAssert.AreEqual(onHost, onBoard, "adversarial examples differ between the host engine and the board");
        Assert.AreEqual(host.Queries, board.Queries, "query counts differ");
        Assert.AreEqual(board.Queries, board.Compared, "every board answer was compared with the host engine");
        Assert.AreEqual(0L, board.LogitMismatches);
        Assert.IsGreaterThan(2L * n, board.Queries, "the search ran past its start");
        Console.WriteLine($"square-linf on {HilBoard.Target}: {n} images, {board.Queries} queries, {board.Queries / Math.Max(board.BoardTime.TotalSeconds, 1e-9):F1} board queries/s");
    }
}
