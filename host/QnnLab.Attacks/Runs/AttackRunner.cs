using System.Diagnostics;
using QnnLab.Attacks.Targets;
using QnnLab.Data;

namespace QnnLab.Attacks.Runs;

/// <summary>
/// What attacks a share of a run's images: an attack instance and its targets, owned by this worker alone (attacks
/// keep per-call state such as query counts, and a board takes one connection). <paramref name="Board"/> names the
/// board it asks (<c>sim#2</c>), recorded with every row it answers; null for a host-only run.
/// </summary>
/// <param name="Evals">Targets the examples are evaluated on, keyed by the name reports use (float, int16, int8, board).</param>
public sealed record AttackWorker(Attack Attack, AttackTarget Craft, IReadOnlyDictionary<string, AttackTarget> Evals, string? Board = null);

/// <summary>
/// One attack run: images of a set, crafted on one target, evaluated (transferred) on several; batch by batch into an
/// <see cref="AttackStore"/>, resumable. Several workers (one per board) share the batches.
/// </summary>
public sealed record AttackJob(IReadOnlyList<AttackWorker> Workers, ImageSet Set, int[] Indices, int BatchSize, int Seed)
{
    /// <summary>
    /// Examples another run already crafted the same way (same attack, parameters, craft target, model, data and
    /// seed), by image index: they are evaluated on this run's targets instead of being crafted again, and keep their
    /// query counts. Null: craft.
    /// </summary>
    public IReadOnlyDictionary<int, AttackImageResult>? Crafted { get; init; }

    public AttackJob(Attack attack, AttackTarget craft, IReadOnlyDictionary<string, AttackTarget> evals, ImageSet set, int[] indices, int batchSize, int seed)
        : this([new AttackWorker(attack, craft, evals)], set, indices, batchSize, seed)
    {
    }
}

/// <summary>Progress after each batch: images done of total, running adversarial accuracy of the craft precision, queries/s.</summary>
public sealed record AttackProgress(int Done, int Total, double AdversarialAccuracy, double QueriesPerSecond);

public static class AttackRunner
{
    /// <summary>
    /// Attacks every image of <paramref name="job"/> not yet recorded under <paramref name="runId"/> and records it.
    /// Each batch's seed derives from the run's seed and the batch's first image, so a resumed run repeats exactly
    /// what the uninterrupted one would have done with the same batching, and the batches come out the same whichever
    /// worker takes them. With several workers each takes the next batch when it is free; a worker whose board fails
    /// (<see cref="BoardOracle.IsBoardFailure"/>) is retired and its batch goes back to the others. Only when every
    /// worker is retired does the run stop, with what was recorded kept.
    /// </summary>
    public static void Run(AttackJob job, AttackStore store, long runId, Action<AttackProgress>? progress = null, CancellationToken cancel = default,
        Action<string>? log = null)
    {
        HashSet<int> done = store.Results(runId).Select(r => r.Index).ToHashSet();
        int[] todo = job.Indices.Where(i => !done.Contains(i)).ToArray();
        var clock = Stopwatch.StartNew();
        long Queries() => job.Workers.Sum(w => w.Craft.Queries);
        long queries0 = Queries();
        int recorded = done.Count, robust = 0, seen = 0;
        var pending = new Queue<int>(Enumerable.Range(0, (todo.Length + job.BatchSize - 1) / job.BatchSize).Select(u => u * job.BatchSize));
        int[] Unit(int b) => todo[b..Math.Min(todo.Length, b + job.BatchSize)];
        void Record(List<AttackImageResult> batch, AttackWorker w)
        {
            store.AddBatch(runId, batch);
            recorded += batch.Count;
            seen += batch.Count;
            string key = w.Evals.ContainsKey(w.Craft.Name) ? w.Craft.Name : w.Evals.Keys.First();
            robust += batch.Count(r => r.Evals[key].AdversarialLabel == r.Label);
            progress?.Invoke(new AttackProgress(recorded, job.Indices.Length, (double)robust / seen, (Queries() - queries0) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
        }
        if (job.Workers.Count == 1)
        {
            AttackWorker w = job.Workers[0];
            while (pending.TryDequeue(out int b))
            {
                cancel.ThrowIfCancellationRequested();
                Record(Attack(w, job, Unit(b)), w);
            }
            return;
        }
        RunShared(job, pending, Unit, Record, cancel, log);
    }

    /// <summary>The workers of <paramref name="job"/> in parallel, one thread each, taking units from <paramref name="pending"/>.</summary>
    private static void RunShared(AttackJob job, Queue<int> pending, Func<int, int[]> unit, Action<List<AttackImageResult>, AttackWorker> record,
        CancellationToken cancel, Action<string>? log)
    {
        var gate = new object();
        int inFlight = 0;
        var failures = new List<string>();
        Exception? fatal = null;
        Exception? lastBoardFailure = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        void Work(AttackWorker w)
        {
            while (true)
            {
                int b;
                lock (gate)
                {
                    while (pending.Count == 0 && inFlight > 0 && !stop.IsCancellationRequested)
                    {
                        // another worker's unit may still come back
                        Monitor.Wait(gate, 100);
                    }
                    if (stop.IsCancellationRequested || pending.Count == 0)
                    {
                        return;
                    }
                    b = pending.Dequeue();
                    inFlight++;
                }
                int[] images = unit(b);
                try
                {
                    List<AttackImageResult> batch = Attack(w, job, images);
                    lock (gate)
                    {
                        record(batch, w);
                    }
                }
                catch (Exception e) when (w.Board is not null && BoardOracle.IsBoardFailure(e) && !stop.IsCancellationRequested)
                {
                    string cause = Causes(e);
                    log?.Invoke($"board {w.Board} failed on images {images[0]}..{images[^1]} ({cause}); it is retired and its images go to the other boards");
                    lock (gate)
                    {
                        failures.Add($"{w.Board}: {cause}");
                        lastBoardFailure = e;
                        pending.Enqueue(b);
                    }
                    return;
                }
                catch (Exception e)
                {
                    lock (gate)
                    {
                        fatal ??= e;
                    }
                    stop.Cancel();
                    return;
                }
                finally
                {
                    lock (gate)
                    {
                        inFlight--;
                        Monitor.PulseAll(gate);
                    }
                }
            }
        }
        Task[] tasks = [.. job.Workers.Select(w => Task.Factory.StartNew(() => Work(w), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
        Task.WaitAll(tasks, CancellationToken.None);
        if (fatal is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(fatal).Throw();
        }
        cancel.ThrowIfCancellationRequested();
        if (pending.Count > 0)
        {
            throw new IOException($"every board failed ({string.Join("; ", failures)}); {pending.Sum(b => unit(b).Length)} images not attacked; " +
                "what was recorded is kept and a resume continues", lastBoardFailure);
        }
    }

    /// <summary>An exception's message and its inner ones' ("the board connection failed: the sim board's process exited (code 3)").</summary>
    private static string Causes(Exception e)
    {
        var parts = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (!parts.Contains(x.Message))
            {
                parts.Add(x.Message);
            }
        }
        return string.Join(": ", parts);
    }

    /// <summary>One batch on one worker: attacked (or its reused examples taken), then evaluated on every target of that worker.</summary>
    private static List<AttackImageResult> Attack(AttackWorker w, AttackJob job, int[] images)
    {
        int n = images.Length, size = w.Craft.ImageSize;
        var x = new float[n * size];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            job.Set.CopyUnitImage(images[i], x.AsSpan(i * size, size));
            y[i] = job.Set.Labels[images[i]];
        }
        var queries = new double[n];
        var gradients = new double[n];
        float[] adv;
        if (job.Crafted is { } crafted)
        {
            adv = new float[n * size];
            for (int i = 0; i < n; i++)
            {
                if (!crafted.TryGetValue(images[i], out AttackImageResult? r) || r.Adversarial.Length != size)
                {
                    throw new InvalidOperationException($"the run whose examples are reused has no example of {size} values for image {images[i]}");
                }
                r.Adversarial.CopyTo(adv, i * size);
                (queries[i], gradients[i]) = (r.Queries, r.GradientQueries);
            }
        }
        else
        {
            long q0 = w.Craft.Queries, g0 = w.Craft.GradientQueries;
            adv = w.Attack.Generate(w.Craft, x, y, n, unchecked((job.Seed * 1_000_003) + images[0]));
            double q = (double)(w.Craft.Queries - q0) / n, g = (double)(w.Craft.GradientQueries - g0) / n;
            for (int i = 0; i < n; i++)
            {
                // query attacks count per image; batch attacks share every query, so each image gets the mean
                queries[i] = w.Attack.QueriesPerImage is long[] per && per.Length == n ? per[i] : q;
                gradients[i] = g;
            }
        }
        // Distortion as each target sees it: both images through its input quantization (an int16 input grid
        // does not hold the pixel grid exactly, so comparing with x itself would count every pixel as changed).
        var evals = new Dictionary<string, (int[] Clean, int[] Adv, float[] CleanSeen, float[] AdvSeen)>();
        foreach ((string name, AttackTarget t) in w.Evals)
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
            batch.Add(new AttackImageResult(images[i], y[i], adv.AsSpan(i * size, size).ToArray(), outcomes, queries[i], gradients[i], w.Board));
        }
        return batch;
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
