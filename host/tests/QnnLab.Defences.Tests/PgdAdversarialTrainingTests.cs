using Microsoft.VisualStudio.TestTools.UnitTesting;
using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Targets;
using QnnLab.Data;
using QnnLab.Defences.Training;
using QnnLab.Model;
using QnnLab.TestSupport;
using QnnLab.Torch;

namespace QnnLab.Defences.Tests;

[TestClass]
public sealed class PgdAdversarialTrainingTests
{
    public TestContext TestContext { get; set; } = null!;

    private static PgdAdversarialTraining.Options Small(int epochs) => new()
    {
        NbEpochs = epochs,
        BatchSize = 32,
        Optimizer = "adam",
        LearningRate = 3e-3,
        Eps = 8.0 / 255,
        EpsStep = 2.0 / 255,
        MaxIter = 5,
        NumRandomInit = 1,
        Seed = 11,
    };

    /// <summary>PGD-Linf robust accuracy (eps 4/255, 10 steps from x) of the engine's float model on the held-out set.</summary>
    private static double RobustAccuracy(FloatEngine engine, ImageSet heldOut)
    {
        var pgd = new Pgd();
        pgd.Config.Eps = 4.0 / 255;
        pgd.Config.EpsStep = 1.0 / 255;
        pgd.Config.MaxIter = 10;
        using var target = new TorchTarget(engine, "float");
        float[] adv = pgd.Generate(target, heldOut.UnitImages(), heldOut.Labels, heldOut.Count, seed: 5);
        int[] predicted = target.Labels(adv, heldOut.Count);
        return (double)predicted.Where((p, i) => p == heldOut.Labels[i]).Count() / heldOut.Count;
    }

    /// <summary>
    /// The same tiny CNN, data (1,000 CIFAR-10 training images), optimizer, seed and epochs, fine-tuned once on
    /// clean images and once on PGD examples (eps 4/255): on 500 held-out test images PGD's robust accuracy is clearly higher for the
    /// adversarially trained one (and standard training is not simply broken: it has the better clean accuracy).
    /// </summary>
    [TestMethod]
    public void PgdTraining_RaisesRobustAccuracyOverStandardTrainingAtTheSameBudget()
    {
        ImageSet train = TrainingTestModels.Train(1000);
        ImageSet heldOut = TrainingTestModels.HeldOut(500);
        string dir = TestData.TempDir();
        try
        {
            // As the paper does, both fine-tune one standard-trained model (3 epochs on clean images) for 3 more epochs.
            using var pretrain = new FloatEngine(TrainingTestModels.TinyCnn(1));
            DefenceTrainer.Train(pretrain, train, Small(epochs: 3), new CleanTraining(), new TrainingRun(Path.Combine(dir, "pre")));
            QnnModel start = pretrain.ExportFloatModel();
            PgdAdversarialTraining.Options options = Small(epochs: 3);
            options.Eps = 4.0 / 255;
            options.EpsStep = 1.0 / 255;
            options.Seed = 12;
            using var standard = new FloatEngine(start);
            DefenceTrainer.Train(standard, train, options, new CleanTraining(), new TrainingRun(Path.Combine(dir, "std")));
            using var robust = new FloatEngine(start);
            IReadOnlyList<EpochLog> log = DefenceTrainer.Train(robust, train, options, new PgdAdversarialTraining(options), new TrainingRun(Path.Combine(dir, "pgd")));

            double stdClean = standard.Accuracy(heldOut), pgdClean = robust.Accuracy(heldOut);
            double stdRobust = RobustAccuracy(standard, heldOut), pgdRobust = RobustAccuracy(robust, heldOut);
            TestContext.WriteLine($"standard: clean {stdClean:P1} robust {stdRobust:P1}; pgd-at: clean {pgdClean:P1} robust {pgdRobust:P1}; last epoch {log[^1]}");
            Assert.IsGreaterThan(0.2, stdClean, "standard training learnt something");
            Assert.IsGreaterThan(0.2, pgdClean, "the PGD-trained model still classifies (not one class for every image)");
            Assert.IsGreaterThan(stdRobust + 0.05, pgdRobust, "PGD training raises PGD robust accuracy by more than 5 points");
            Assert.IsNotNull(log[^1].AdversarialAccuracy, "PGD training reports its adversarial training accuracy");
            Assert.IsLessThan(log[^1].CleanAccuracy, log[^1].AdversarialAccuracy!.Value, "its training examples are adversarial");
            Assert.IsTrue(File.Exists(Path.Combine(dir, "pgd", "training-log.csv")) && File.Exists(Path.Combine(dir, "pgd", "training-loss.png")));
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }

    /// <summary>
    /// A run killed in the middle of its second epoch (cancelled after step 3 of 8) and resumed from its checkpoint
    /// ends with every parameter equal, bit for bit, to an uninterrupted run with the same seed (Adam's state and the
    /// shuffle and random starts of epoch 2 included), and its log holds both epochs.
    /// </summary>
    [TestMethod]
    public void KilledTraining_ResumesToTheSameWeightsAsAnUninterruptedRun()
    {
        ImageSet train = TrainingTestModels.Train(256);
        string dir = TestData.TempDir();
        try
        {
            PgdAdversarialTraining.Options options = Small(epochs: 2);
            options.MaxIter = 2;
            using var straight = new FloatEngine(TrainingTestModels.TinyCnn(2));
            DefenceTrainer.Train(straight, train, options, new PgdAdversarialTraining(options), new TrainingRun(Path.Combine(dir, "straight")));

            string resumedDir = Path.Combine(dir, "resumed");
            using (var killed = new FloatEngine(TrainingTestModels.TinyCnn(2)))
            {
                using var cts = new CancellationTokenSource();
                var run = new TrainingRun(resumedDir)
                {
                    Cancel = cts.Token,
                    OnStep = (epoch, step) =>
                    {
                        if (epoch == 2 && step == 3)
                        {
                            cts.Cancel();
                        }
                    },
                };
                Assert.ThrowsExactly<OperationCanceledException>(() => DefenceTrainer.Train(killed, train, options, new PgdAdversarialTraining(options), run));
            }
            using var resumed = new FloatEngine(TrainingTestModels.TinyCnn(2));
            var lines = new List<string>();
            IReadOnlyList<EpochLog> log = DefenceTrainer.Train(resumed, train, options, new PgdAdversarialTraining(options),
                new TrainingRun(resumedDir) { Resume = true, Progress = lines.Add });
            Assert.IsTrue(lines.Any(l => l.Contains("resumed after epoch 1", StringComparison.Ordinal)), string.Join("\n", lines));
            Assert.HasCount(2, log);

            QnnModel a = straight.ExportFloatModel(), b = resumed.ExportFloatModel();
            QnnModel initial = TrainingTestModels.TinyCnn(2);
            int compared = 0;
            for (int t = 0; t < a.Tensors.Count; t++)
            {
                if (a.Tensors[t].Type == ElementType.Float32 && a.Tensors[t].Data is byte[] da)
                {
                    CollectionAssert.AreEqual(da, b.Tensors[t].Data, $"tensor {a.Tensors[t].Name}");
                    compared++;
                    if (a.Tensors[t].Name == "conv1/w")
                    {
                        CollectionAssert.AreNotEqual(initial.Tensors[t].Data, da, "the weights did train");
                    }
                }
            }
            Assert.AreEqual(6, compared, "every weight and bias tensor");
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }
}
