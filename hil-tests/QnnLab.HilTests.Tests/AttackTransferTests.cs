using QnnLab.Attacks;
using QnnLab.Attacks.Targets;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.HilTests.Tests;

/// <summary>
/// Paper Section 3.2 on the board: adversarial examples crafted on the float model, sent to the board as the int8 /
/// int16 model's quantized input tensors, get the host engine's answer on every logit, so the board's adversarial
/// accuracy is the host engine's.
/// </summary>
[TestClass]
public sealed class AttackTransferTests
{
    private static float[] _clean = [];
    private static float[] _adv = [];
    private static int[] _labels = [];

    [ClassInitialize]
    public static void Craft(TestContext _)
    {
        ImageSet set = HilBoard.Cifar(HilBoard.Inputs);
        _labels = [.. set.Labels.Take(set.Count)];
        _clean = set.Pixels!.Select(p => p / 255f).ToArray();
        using var floatTarget = new TorchTarget(ModelFiles.Load(TestData.Require("paper-models/vanilla/cifar_resnet_float.h5")));
        Attack pgd = AttackCatalog.Create("pgd");
        pgd.Parameters.Set("eps", "0.008");
        pgd.Parameters.Set("eps_step", "0.002");
        pgd.Parameters.Set("max_iter", "5");
        _adv = pgd.Generate(floatTarget, _clean, _labels, set.Count, seed: 1);
    }

    [TestMethod]
    [DataRow("int8")]
    [DataRow("int16")]
    public async Task TransferredExamples_GetTheHostEnginesLogitsOnTheBoard(string precision)
    {
        string path = HilBoard.Model(precision);
        QnnModel model = ModelFiles.Load(path);
        int n = _labels.Length;
        using BoardOracle board = await HilBoard.OpenOracleAsync(path, model.Preprocessing);
        using var host = new IntegerTarget(model);

        int[] boardClean = board.RawOutputs(_clean, n), hostClean = host.RawOutputs(_clean, n);
        int[] boardAdv = board.RawOutputs(_adv, n), hostAdv = host.RawOutputs(_adv, n);
        CollectionAssert.AreEqual(hostClean, boardClean, $"{precision}: clean logits differ from the host engine's");
        CollectionAssert.AreEqual(hostAdv, boardAdv, $"{precision}: adversarial logits differ from the host engine's");
        Assert.AreEqual(2L * n, board.Compared);
        Assert.AreEqual(0L, board.LogitMismatches);

        // The board's labels are its own answers, and the transferred attack must have turned some of them.
        int[] labels = board.Labels(_adv, n);
        CollectionAssert.AreEqual(host.Labels(_adv, n), labels, $"{precision}: board labels");
        int cleanCorrect = board.Labels(_clean, n).Zip(_labels).Count(p => p.First == p.Second);
        int advCorrect = labels.Zip(_labels).Count(p => p.First == p.Second);
        Assert.IsLessThan(cleanCorrect, advCorrect, $"{precision}: PGD at eps 0.008 turned no board answer ({advCorrect} of {n} still correct)");
        Assert.AreEqual(2L * n, board.Queries, "every image labelled counts as a query (RawOutputs, like the integer target's, does not)");
    }
}
