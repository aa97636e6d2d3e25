using QnnLab.Attacks.Runs;
using QnnLab.Attacks.Targets;
using QnnLab.Data;

namespace QnnLab.Attacks.Tests;

/// <summary>The runner: one stored result per image, a resumed run equal to an uninterrupted one, summaries that recount.</summary>
[TestClass]
public sealed class AttackRunnerTests
{
    private const int N = 12, D = 48, Classes = 5, Batch = 4;

    private static (ImageSet Set, TorchTarget Target) Fixture()
    {
        var target = new TorchTarget(LinearModel.Random(Classes, D, 3, out _, out _));
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 11);
        // pixel units, as sets from files hold them; labels: the model's own except two flipped (clean errors)
        float[] pixels = x.Select(v => MathF.Round(v * 255f)).ToArray();
        int[] labels = (int[])target.Labels(pixels.Select(v => v / 255f).ToArray(), N).Clone();
        labels[0] = (labels[0] + 1) % Classes;
        labels[5] = (labels[5] + 1) % Classes;
        return (new ImageSet("fixture", 1, 1, D, labels, values: pixels), target);
    }

    private static AttackJob Job(ImageSet set, TorchTarget target) =>
        new(Fgsm(), target, new Dictionary<string, AttackTarget> { ["float"] = target }, set, [.. Enumerable.Range(0, N)], Batch, seed: 7);

    private static Attack Fgsm()
    {
        Attack a = AttackCatalog.Create("pgd");
        a.Parameters.Set("eps", "0.05");
        a.Parameters.Set("eps_step", "0.01");
        a.Parameters.Set("max_iter", "5");
        a.Parameters.Set("num_random_init", "1");
        return a;
    }

    private static AttackRunInfo Info() => new(0, "pgd", "{}", "float", "linear", "fixture", "float", 7, N, "running");

    [TestMethod]
    public void AnInterruptedRunResumesToTheSameResultsAsAnUninterruptedOne()
    {
        string dir = Directory.CreateTempSubdirectory("qnn-attack-run").FullName;
        try
        {
            (ImageSet set, TorchTarget target) = Fixture();
            using (target)
            {
                IReadOnlyList<AttackImageResult> whole;
                using (var store = new AttackStore(Path.Combine(dir, "whole.db")))
                {
                    long id = store.CreateRun(Info());
                    AttackRunner.Run(Job(set, target), store, id);
                    whole = store.Results(id);
                }

                string path = Path.Combine(dir, "resumed.db");
                long run;
                var seen = new List<int>();
                using (var store = new AttackStore(path))
                {
                    run = store.CreateRun(Info());
                    using var cancel = new CancellationTokenSource();
                    Assert.ThrowsExactly<OperationCanceledException>(() => AttackRunner.Run(Job(set, target), store, run, p =>
                    {
                        seen.Add(p.Done);
                        cancel.Cancel(); // stop after the first batch, as a crash would
                    }, cancel.Token));
                    Assert.HasCount(Batch, store.Results(run), "the first batch was recorded before the stop");
                }
                using (var store = new AttackStore(path))
                {
                    AttackRunner.Run(Job(set, target), store, run, p => seen.Add(p.Done));
                    IReadOnlyList<AttackImageResult> resumed = store.Results(run);
                    CollectionAssert.AreEqual(new[] { Batch, 2 * Batch, 3 * Batch }, seen, "progress counts recorded images");
                    Assert.HasCount(N, resumed);
                    for (int i = 0; i < N; i++)
                    {
                        Assert.AreEqual(whole[i].Index, resumed[i].Index);
                        CollectionAssert.AreEqual(whole[i].Adversarial, resumed[i].Adversarial, $"image {i}: every value");
                        Assert.AreEqual(whole[i].Evals["float"], resumed[i].Evals["float"], $"image {i}: outcome");
                    }

                    // Nothing left: a second resume attacks nothing and records nothing twice.
                    long before = target.Queries;
                    AttackRunner.Run(Job(set, target), store, run);
                    Assert.AreEqual(before, target.Queries);
                    Assert.HasCount(N, store.Results(run));

                    PrecisionSummary s = AttackSummary.Of(resumed).Single();
                    int clean = resumed.Count(r => r.Evals["float"].CleanLabel == r.Label);
                    int robust = resumed.Count(r => r.Evals["float"].AdversarialLabel == r.Label);
                    Assert.AreEqual(N - 2, clean, "the two flipped labels are clean errors");
                    Assert.AreEqual((double)clean / N, s.CleanAccuracy, 1e-12);
                    Assert.AreEqual((double)robust / N, s.AdversarialAccuracy, 1e-12);
                    Assert.IsLessThan(clean, robust, "the attack lowered accuracy");
                    Assert.IsLessThanOrEqualTo(0.05 + 1e-6, s.MeanAll.Linf, "eps bounds every example");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void AnUnwritableStoreIsRefusedByName()
    {
        string file = Path.GetTempFileName();
        try
        {
            IOException e = Assert.ThrowsExactly<IOException>(() => new AttackStore(Path.Combine(file, "sub", "x.db")));
            StringAssert.Contains(e.Message, "cannot open the result store");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
