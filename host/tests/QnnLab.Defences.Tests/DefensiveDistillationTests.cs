using Microsoft.VisualStudio.TestTools.UnitTesting;
using QnnLab.Data;
using QnnLab.Defences.Training;
using QnnLab.Model;
using QnnLab.TestSupport;
using QnnLab.Torch;
using static TorchSharp.torch;

namespace QnnLab.Defences.Tests;

[TestClass]
public sealed class DefensiveDistillationTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// One image, two classes, student logits [0, 2] at T = 2 (so softmax of [0, 1]), soft labels [0.5, 0.5], true class
    /// 0: the loss is alpha * ln(1 + e) + (1 - alpha) * T^2 * KL, worked out here in doubles; soft labels equal to the
    /// student's own tempered softmax cost nothing at alpha 0.
    /// </summary>
    [TestMethod]
    [DataRow(0.1)]
    [DataRow(1.0)]
    [DataRow(0.0)]
    public void Loss_IsTheScaledHintonMixOfHardAndSoftLabels(double alpha)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        double p0 = 1 / (1 + Math.E), p1 = Math.E / (1 + Math.E);
        double hard = Math.Log(1 + Math.E);
        double kl = (0.5 * (Math.Log(0.5) - Math.Log(p0))) + (0.5 * (Math.Log(0.5) - Math.Log(p1)));
        double expected = (alpha * hard) + ((1 - alpha) * 4 * kl);
        var z = tensor(new float[] { 0, 2 }, [1, 2]);
        double got = DefensiveDistillation.Loss(z, tensor(new float[] { 0.5f, 0.5f }, [1, 2]), tensor(new long[] { 0 }), 2, alpha).item<float>();
        Assert.AreEqual(expected, got, 1e-5);
        var own = nn.functional.softmax(z.div(2), -1);
        double self = DefensiveDistillation.Loss(z, own, tensor(new long[] { 0 }), 2, 0).item<float>();
        Assert.AreEqual(0, self, 1e-6, "soft labels equal to the student's: no distillation loss");
    }

    /// <summary>
    /// The tiny CNN trained on 1,000 CIFAR-10 images is distilled at the paper's T = 20 and alpha = 0.1 (teacher trained
    /// at T for 6 epochs, student for 6, from the teacher's weights): the student deployed at T = 1 stays within 2 points of its teacher's clean
    /// accuracy on 500 held-out test images, and both classify well above chance.
    /// </summary>
    [TestMethod]
    public void DistilledStudent_StaysWithinTwoPointsOfItsTeacher()
    {
        ImageSet train = TrainingTestModels.Train(1000);
        ImageSet heldOut = TrainingTestModels.HeldOut(500);
        string dir = TestData.TempDir();
        try
        {
            using var pretrain = new FloatEngine(TrainingTestModels.TinyCnn(3));
            DefenceTrainer.Train(pretrain, train, new PgdAdversarialTraining.Options { NbEpochs = 4, Optimizer = "adam", LearningRate = 3e-3, BatchSize = 32, Seed = 4 },
                new CleanTraining(), new TrainingRun(Path.Combine(dir, "pre")));
            QnnModel start = pretrain.ExportFloatModel();

            var options = new DefensiveDistillation.Options { NbEpochs = 6, BatchSize = 32, Seed = 5 };
            Assert.AreEqual(20, options.Temperature);
            Assert.AreEqual(0.1, options.Alpha);
            DefensiveDistillation.Result r = DefensiveDistillation.Train(start, train, options, new TrainingRun(Path.Combine(dir, "distil")));
            using var teacher = new FloatEngine(r.Teacher);
            using var student = new FloatEngine(r.Student);
            double t = teacher.Accuracy(heldOut), s = student.Accuracy(heldOut);
            TestContext.WriteLine($"pretrained {pretrain.Accuracy(heldOut):P1}, teacher {t:P1}, student {s:P1}; teacher log {r.TeacherLog[^1]}; student log {r.StudentLog[^1]}");
            Assert.HasCount(6, r.TeacherLog);
            Assert.HasCount(6, r.StudentLog);
            int fc = r.Student.Tensors.FindIndex(x => x.Name == "fc/w");
            CollectionAssert.AreNotEqual(r.Teacher.Tensors[fc].Data, r.Student.Tensors[fc].Data, "the student trained away from the teacher's weights");
            Assert.IsGreaterThan(0.2, t, "the teacher classifies");
            Assert.AreEqual(t, s, 0.02, "student within 2 points of the teacher");
            Assert.IsTrue(File.Exists(Path.Combine(dir, "distil", "teacher", "training-log.csv")) && File.Exists(Path.Combine(dir, "distil", "training-log.csv")));
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }
}
