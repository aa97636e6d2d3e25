using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>A batch of candidate images one image's search asks about; the driver fills in the answers before resuming it.</summary>
public sealed class Query(float[][] candidates)
{
    public float[][] Candidates { get; } = candidates;

    /// <summary>The target's labels of <see cref="Candidates"/>, once answered.</summary>
    public int[] Labels { get; internal set; } = [];

    /// <summary>The target's scores (Candidates.Length x classes), once answered (score queries only).</summary>
    public float[] Scores { get; internal set; } = [];
}

/// <summary>
/// Runs one sequential search per image (written as an iterator that yields the <see cref="Query"/> it needs answered)
/// and answers all images' pending queries with one batched target call per round: decision-based attacks stay
/// simple per image and still use the engine's batch throughput (or the board's pipelined link). Each image keeps its
/// own generator, so its search and its query count do not depend on the other images of its batch.
/// </summary>
public static class QueryDriver
{
    /// <param name="searches">One iterator per image; each leaves its result where its closure puts it.</param>
    /// <param name="scores">Answer with scores (and the labels derived from them) instead of labels only.</param>
    /// <returns>The queries each search asked.</returns>
    public static long[] Run(AttackTarget target, IReadOnlyList<IEnumerable<Query>> searches, bool scores = false)
    {
        int size = target.ImageSize;
        var counts = new long[searches.Count];
        var running = new List<(IEnumerator<Query> E, int Search)>(searches.Count);
        for (int s = 0; s < searches.Count; s++)
        {
            IEnumerator<Query> e = searches[s].GetEnumerator();
            if (e.MoveNext())
            {
                running.Add((e, s));
            }
            else
            {
                e.Dispose();
            }
        }
        while (running.Count > 0)
        {
            int total = running.Sum(r => r.E.Current.Candidates.Length);
            var batch = new float[total * size];
            int at = 0;
            foreach ((IEnumerator<Query> e, int search) in running)
            {
                counts[search] += e.Current.Candidates.Length;
                foreach (float[] c in e.Current.Candidates)
                {
                    if (c.Length != size)
                    {
                        throw new InvalidOperationException($"a search asked about {c.Length} values; the target takes images of {size}");
                    }
                    c.CopyTo(batch, at * size);
                    at++;
                }
            }
            int[] labels;
            float[] answers = [];
            if (total == 0)
            {
                labels = [];
            }
            else if (scores)
            {
                answers = target.Scores(batch, total);
                labels = AttackTarget.ArgMaxRows(answers, total, target.Classes);
            }
            else
            {
                labels = target.Labels(batch, total);
            }
            at = 0;
            var next = new List<(IEnumerator<Query> E, int Search)>(running.Count);
            foreach ((IEnumerator<Query> e, int search) in running)
            {
                int k = e.Current.Candidates.Length;
                e.Current.Labels = labels.AsSpan(at, k).ToArray();
                if (scores)
                {
                    e.Current.Scores = answers.AsSpan(at * target.Classes, k * target.Classes).ToArray();
                }
                at += k;
                if (e.MoveNext())
                {
                    next.Add((e, search));
                }
                else
                {
                    e.Dispose();
                }
            }
            running = next;
        }
        return counts;
    }

    /// <summary>A standard normal draw (Box-Muller) from <paramref name="rng"/>.</summary>
    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>The per-image generator every query attack uses: the batch seed and the image's position.</summary>
    public static Random ImageRandom(int seed, int image) => new(unchecked((seed * 7919) + image));

    public static double L2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = a[i] - (double)b[i];
            s += d * d;
        }
        return Math.Sqrt(s);
    }
}
