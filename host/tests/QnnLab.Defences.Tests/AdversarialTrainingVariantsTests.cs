using Microsoft.VisualStudio.TestTools.UnitTesting;
using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Targets;
using QnnLab.Data;
using QnnLab.Defences.Training;
using QnnLab.Model;
using QnnLab.TestSupport;
using QnnLab.Torch;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences.Tests;

/// <summary>Ensemble and Sinkhorn adversarial training on the tiny CNN.</summary>
[TestClass]
public sealed class AdversarialTrainingVariantsTests
{
    /// <summary>
    /// Two helpers (tiny CNNs made here; the paper's helpers are not on this machine), FGSM and PGD from each plus FGSM
    /// on the model itself: over one epoch of 10 batches every source gives two batches (64 images); the first batch's
    /// examples are FGSM on helper 1, image for image, not FGSM on helper 2, and stay within eps of the clean images.
    /// </summary>
    [TestMethod]
    public void EnsembleTraining_DrawsExamplesFromEveryHelper()
    {
        ImageSet train = TrainingTestModels.Train(320);
        QnnModel h1 = TrainingTestModels.TinyCnn(21), h2 = TrainingTestModels.TinyCnn(22);
        var options = new EnsembleAdversarialTraining.Options { NbEpochs = 1, BatchSize = 32, Eps = 4.0 / 255, PgdEps = 4.0 / 255, MaxIter = 2, IncludeSelf = true, Optimizer = "adam", LearningRate = 1e-3, Seed = 3 };
        string dir = TestData.TempDir();
        try
        {
            using var objective = new EnsembleAdversarialTraining(options, [h1, h2]);
            Assert.HasCount(5, objective.Sources);
            using var engine = new FloatEngine(TrainingTestModels.TinyCnn(23));

            // The first batch, made as the trainer makes it, against FGSM on each helper made independently.
            int n = 32;
            float[] unit = train.UnitImages(n);
            int[] labels = train.Labels[..n];
            float[] fromObjective;
            using (NewDisposeScope())
            {
                Tensor pixels = tensor(unit, [n, 32, 32, 3]).mul(255f);
                fromObjective = objective.Examples(engine, pixels, tensor(labels.Select(l => (long)l).ToArray()), new StepInfo(0, 0, 10, 99))
                    .div(255f).contiguous().data<float>().ToArray();
            }
            float[] Fgsm(QnnModel helper)
            {
                var f = new Fgsm();
                f.Config.Eps = 4.0 / 255;
                using var target = new TorchTarget(helper);
                return f.Generate(target, unit, labels, n, 99);
            }
            float[] f1 = Fgsm(h1), f2 = Fgsm(h2);
            double maxDiff1 = fromObjective.Zip(f1).Max(p => Math.Abs(p.First - p.Second));
            double maxDiff2 = fromObjective.Zip(f2).Max(p => Math.Abs(p.First - p.Second));
            Assert.IsLessThan(1e-5, maxDiff1, "batch 0 comes from FGSM on helper 1");
            Assert.IsGreaterThan(1e-3, maxDiff2, "and not from helper 2");
            Assert.IsLessThan(4.0 / 255 + 1e-5, fromObjective.Zip(unit).Max(p => Math.Abs(p.First - p.Second)));

            using var fresh = new EnsembleAdversarialTraining(options, [h1, h2]);
            DefenceTrainer.Train(engine, train, options, fresh, new TrainingRun(dir));
            CollectionAssert.AreEqual(new long[] { 64, 64, 64, 64, 64 }, fresh.Draws.ToArray(), string.Join(", ", fresh.Sources.Select(s => s.Name)));
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }

    /// <summary>
    /// A Sinkhorn AT step's loss is the cross-entropy of the adversarial logits plus the Sinkhorn divergence (paper's
    /// settings: epsilon 1, 50 iterations, sum) of the clean and adversarial softmax outputs it reports, and its
    /// examples are adversarial (lower accuracy than clean); an epoch of it trains (finite loss, weights move).
    /// </summary>
    [TestMethod]
    public void SinkhornTraining_LossIsCrossEntropyPlusTheDivergence()
    {
        ImageSet train = TrainingTestModels.Train(128);
        SinkhornAdversarialTraining.Options options = SinkhornAdversarialTraining.Preset("cifar10");
        Assert.AreEqual(1.0, options.SinkhornEpsilon);
        Assert.AreEqual(50, options.SinkhornMaxIter);
        Assert.AreEqual("sum", options.SinkhornReduction);
        options.NbEpochs = 1;
        options.Eps = 8.0 / 255;
        options.EpsStep = 2.0 / 255;
        options.MaxIter = 3;
        options.Optimizer = "adam";
        var objective = new SinkhornAdversarialTraining(options);
        using var engine = new FloatEngine(TrainingTestModels.TinyCnn(31));
        using (NewDisposeScope())
        {
            float[] pixels = engine.Pixels(train, 0, 32);
            Tensor x = tensor(pixels, [32, 32, 32, 3]);
            Tensor y = tensor(train.Labels[..32].Select(l => (long)l).ToArray());
            engine.Module.SetTrainable(true);
            StepOutcome o = objective.Step(engine, x, y, new StepInfo(0, 0, 4, 7));
            engine.Module.SetTrainable(false);
            double ce = nn.functional.cross_entropy(o.AdversarialLogits!, y).item<float>();
            double div = Sinkhorn.Divergence(nn.functional.softmax(o.CleanLogits!, -1), nn.functional.softmax(o.AdversarialLogits!, -1), 1.0, 50, "sum").item<float>();
            Assert.AreEqual(ce + div, o.Loss.item<float>(), 1e-4);
            Assert.IsGreaterThan(0, Math.Abs(div), "the divergence term is there");
        }
        byte[] before = (byte[])engine.ExportFloatModel().Tensors.First(t => t.Name == "fc/w").Data!.Clone();
        string dir = TestData.TempDir();
        try
        {
            IReadOnlyList<EpochLog> log = DefenceTrainer.Train(engine, train, options, objective, new TrainingRun(dir));
            Assert.IsTrue(double.IsFinite(log[0].Loss));
            Assert.IsLessThan(log[0].CleanAccuracy + 1e-9, log[0].AdversarialAccuracy!.Value, "adversarial accuracy is not above clean");
            CollectionAssert.AreNotEqual(before, engine.ExportFloatModel().Tensors.First(t => t.Name == "fc/w").Data);
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }
}
