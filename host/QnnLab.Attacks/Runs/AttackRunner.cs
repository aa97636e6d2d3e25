using System.Diagnostics;
using QnnLab.Attacks.Targets;
using QnnLab.Data;

namespace QnnLab.Attacks.Runs;

/// <summary>
/// One attack run: images of a set, crafted on one target, evaluated (transferred) on several; batch by batch into an
/// <see cref="AttackStore"/>, resumable.
/// </summary>
/// <param name="Evals">Targets the examples are evaluated on, keyed by the name reports use (float, int16, int8, board).</param>
public sealed record AttackJob(Attack Attack, AttackTarget Craft, IReadOnlyDictionary<string, AttackTarget> Evals, ImageSet Set,
    int[] Indices, int BatchSize, int Seed);

/// <summary>Progress after each batch: images done of total, running adversarial accuracy of the craft precision, queries/s.</summary>
public sealed record AttackProgress(int Done, int Total, double AdversarialAccuracy, double QueriesPerSecond);

public static class AttackRunner
{
    /// <summary>
    /// Attacks every image of <paramref name="job"/> not yet recorded under <paramref name="runId"/> and records it.
    /// Each batch's seed derives from the run's seed and the batch's first image, so a resumed run repeats exactly
    /// what the uninterrupted one would have done with the same batching.
    /// </summary>
    public static void Run(AttackJob job, AttackStore store, long runId, Action<AttackProgress>? progress = null, CancellationToken cancel = default)
    {
        HashSet<int> done = store.Results(runId).Select(r => r.Index).ToHashSet();
        int[] todo = job.Indices.Where(i => !done.Contains(i)).ToArray();
        int size = job.Craft.ImageSize;
        var clock = Stopwatch.StartNew();
        long queries0 = job.Craft.Queries;
        int recorded = done.Count, robust = 0, seen = 0;
        for (int b = 0; b < todo.Length; b += job.BatchSize)
        {
            cancel.ThrowIfCancellationRequested();
            int n = Math.Min(job.BatchSize, todo.Length - b);
            var x = new float[n * size];
            var y = new int[n];
            for (int i = 0; i < n; i++)
            {
                int idx = todo[b + i];
                job.Set.CopyUnitImage(idx, x.AsSpan(i * size, size));
                y[i] = job.Set.Labels[idx];
            }
            long q0 = job.Craft.Queries, g0 = job.Craft.GradientQueries;
            float[] adv = job.Attack.Generate(job.Craft, x, y, n, unchecked((job.Seed * 1_000_003) + todo[b]));
            double q = (double)(job.Craft.Queries - q0) / n, g = (double)(job.Craft.GradientQueries - g0) / n;
            // Distortion as each target sees it: both images through its input quantization (an int16 input grid
            // does not hold the pixel grid exactly, so comparing with x itself would count every pixel as changed).
            var evals = new Dictionary<string, (int[] Clean, int[] Adv, float[] CleanSeen, float[] AdvSeen)>();
            foreach ((string name, AttackTarget t) in job.Evals)
            {
                evals[name] = (t.Labels(x, n), t.Labels(adv, n), t.Effective(x), t.Effective(adv));
            }
            var batch = new List<AttackImageResult>(n);
            for (int i = 0; i < n; i++)
            {
                var outcomes = new Dictionary<string, EvalOutcome>();
                foreach ((string name, (int[] clean, int[] a, float[] cleanSeen, float[] advSeen)) in evals)
                {
                    outcomes[name] = new EvalOutcome(clean[i], a[i], Distortion.Of(cleanSeen.AsSpan(i * size, size), advSeen.AsSpan(i * size, size)));
                }
                // query attacks count per image; batch attacks share every query, so each image gets the mean
                double qi = job.Attack.QueriesPerImage is long[] per && per.Length == n ? per[i] : q;
                batch.Add(new AttackImageResult(todo[b + i], y[i], adv.AsSpan(i * size, size).ToArray(), outcomes, qi, g));
            }
            store.AddBatch(runId, batch);
            recorded += n;
            seen += n;
            if (job.Evals.TryGetValue(job.Craft.Name, out _))
            {
                robust += batch.Count(r => r.Evals[job.Craft.Name].AdversarialLabel == r.Label);
            }
            else
            {
                robust += batch.Count(r => r.Evals.Values.First().AdversarialLabel == r.Label);
            }
            progress?.Invoke(new AttackProgress(recorded, job.Indices.Length, (double)robust / seen, (job.Craft.Queries - queries0) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
        }
    }
}

/// <summary>The figures of one precision over a run's images (the paper's Table 5/6 columns).</summary>
public sealed record PrecisionSummary(string Precision, int N, double CleanAccuracy, double AdversarialAccuracy, double SuccessRate,
    Distortion MeanAll, Distortion MeanSuccessful);

/// <summary>Summaries of every precision of a run.</summary>
public static class AttackSummary
{
    public static IReadOnlyList<PrecisionSummary> Of(IReadOnlyList<AttackImageResult> results)
    {
        if (results.Count == 0)
        {
            return [];
        }
        var list = new List<PrecisionSummary>();
        foreach (string p in results[0].Evals.Keys)
        {
            int n = results.Count;
            int clean = results.Count(r => r.Evals[p].CleanLabel == r.Label);
            int adv = results.Count(r => r.Evals[p].AdversarialLabel == r.Label);
            // Success: an initially correct image that the adversarial example turns wrong.
            List<AttackImageResult> successes = results.Where(r => r.Evals[p].CleanLabel == r.Label && r.Evals[p].AdversarialLabel != r.Label).ToList();
            list.Add(new PrecisionSummary(p, n, (double)clean / n, (double)adv / n, clean == 0 ? 0 : (double)successes.Count / clean,
                Distortion.Mean(results.Select(r => r.Evals[p].Distortion).ToList()),
                Distortion.Mean(successes.Select(r => r.Evals[p].Distortion).ToList())));
        }
        return list;
    }
}
