using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Targets;
using QnnLab.Model;

namespace QnnLab.Attacks.Tests;

/// <summary>FGSM, BIM and PGD on a linear classifier: budgets, box, reproducibility, untouched inputs, lower accuracy.</summary>
[TestClass]
public sealed class GradientAttackTests
{
    private const int N = 64, D = 48, Classes = 5;

    private static TorchTarget Target() => new(LinearModel.Random(Classes, D, 3, out _, out _));

    [TestMethod]
    [DataRow("fgsm", 0.05)]
    [DataRow("bim", 0.05)]
    [DataRow("pgd", 0.05)]
    public void StaysInsideEpsAndTheBoxAndLowersAccuracy(string name, double eps)
    {
        using TorchTarget target = Target();
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 11);
        float[] original = (float[])x.Clone();
        Attack attack = AttackCatalog.Create(name);
        attack.Parameters.Set("eps", eps.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (name != "fgsm")
        {
            attack.Parameters.Set("eps_step", "0.01");
            attack.Parameters.Set("max_iter", "20");
        }
        if (name == "pgd")
        {
            attack.Parameters.Set("num_random_init", "3");
        }
        float[] adv = attack.Generate(target, x, y, N, seed: 5);
        CollectionAssert.AreEqual(original, x, "the input was modified");
        for (int i = 0; i < adv.Length; i++)
        {
            Assert.IsTrue(adv[i] is >= 0f and <= 1f, $"value {i} = {adv[i]} outside [0, 1]");
            Assert.IsLessThanOrEqualTo(eps + 1e-6, Math.Abs(adv[i] - x[i]), $"value {i} moved past eps");
        }
        int clean = target.Labels(x, N).Zip(y).Count(p => p.First == p.Second);
        int robust = target.Labels(adv, N).Zip(y).Count(p => p.First == p.Second);
        Assert.AreEqual(N, clean, "labels are the model's own");
        Assert.IsLessThan(clean, robust, $"{name} did not lower accuracy ({robust}/{N})");
    }

    [TestMethod]
    public void PgdWithRandomStartsIsReproducibleWithASeedAndVariesWithout()
    {
        using TorchTarget target = Target();
        (float[] x, int[] y) = LinearModel.Inputs(target, 16, 12);
        Attack Make()
        {
            Attack a = AttackCatalog.Create("pgd");
            a.Parameters.Set("eps", "0.02");
            a.Parameters.Set("eps_step", "0.005");
            a.Parameters.Set("max_iter", "5");
            a.Parameters.Set("num_random_init", "2");
            return a;
        }
        float[] a1 = Make().Generate(target, x, y, 16, seed: 7);
        float[] a2 = Make().Generate(target, x, y, 16, seed: 7);
        float[] a3 = Make().Generate(target, x, y, 16, seed: 8);
        CollectionAssert.AreEqual(a1, a2, "same seed, same examples");
        CollectionAssert.AreNotEqual(a1, a3, "another seed, other random starts");
    }

    [TestMethod]
    public void FgsmStepsExactlyEpsAlongTheGradientSign()
    {
        // Two classes: the cross-entropy gradient of the true class's loss is -(1 - p) (w_y - w_other): its sign is known.
        float[,] w = { { 1f, -2f, 0.5f }, { -1f, 1f, 0f } };
        using var target = new TorchTarget(LinearModel.Build(w, [0f, 0f]));
        float[] x = [0.5f, 0.5f, 0.5f];
        int[] y = target.Labels(x, 1);
        Attack fgsm = AttackCatalog.Create("fgsm");
        fgsm.Parameters.Set("eps", "0.1");
        float[] adv = fgsm.Generate(target, x, y, 1, 0);
        int other = 1 - y[0];
        for (int j = 0; j < 3; j++)
        {
            double direction = Math.Sign(w[other, j] - w[y[0], j]);
            Assert.AreEqual(0.5 + (0.1 * direction), adv[j], 1e-6, $"value {j}");
        }
    }

    [TestMethod]
    public void AnAttackNeedingGradientsIsRefusedByALabelOnlyTargetByName()
    {
        using var target = new IntegerTarget(TestModels.CifarInt8());
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() =>
            AttackCatalog.Create("pgd").Generate(target, new float[target.ImageSize], [0], 1, 0));
        StringAssert.Contains(ex.Message, "attack 'pgd' needs gradients that target 'int8' cannot give");
    }

    [TestMethod]
    public void UnknownParametersAndAttacksAreRefusedWithTheChoices()
    {
        var e1 = Assert.ThrowsExactly<ArgumentException>(() => AttackCatalog.Create("pgd").Parameters.Set("epsilon", "1"));
        StringAssert.Contains(e1.Message, "eps_step");
        var e2 = Assert.ThrowsExactly<ArgumentException>(() => AttackCatalog.Create("nope"));
        StringAssert.Contains(e2.Message, "fgsm");
        var e3 = Assert.ThrowsExactly<ArgumentException>(() => AttackCatalog.Create("pgd").Parameters.Set("max_iter", "many"));
        StringAssert.Contains(e3.Message, "'many' is not a int32");
    }
}

/// <summary>The shared paper models the attack tests use.</summary>
internal static class TestModels
{
    public static QnnModel CifarInt8() => Inference.ModelFiles.Load(TestSupport.TestData.Require("paper-models/vanilla/cifar_resnet_int8.tflite"));

    public static QnnModel CifarInt16() => Inference.ModelFiles.Load(TestSupport.TestData.Require("paper-models/vanilla/cifar_resnet_int16.tflite"));
}
