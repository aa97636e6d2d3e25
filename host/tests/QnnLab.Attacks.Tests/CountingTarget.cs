using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Tests;

/// <summary>
/// Forwards to a real target and records on its own every call's size and, per image (the clean image nearest
/// to each input), whether each query saw it misclassified. <paramref name="labelsOnly"/> offers labels alone (a
/// decision-based target), so an attack that needs more is refused.
/// </summary>
internal sealed class CountingTarget(TorchTarget inner, bool labelsOnly = false) : AttackTarget
{
    private float[] _clean = [];
    private int[] _labels = [];

    public TorchTarget Inner { get; } = inner;
    public List<int> BatchSizes { get; } = [];
    public List<bool>[] PerImage { get; private set; } = [];
    public override string Name => "counting";
    public override TargetCapabilities Capabilities => labelsOnly ? TargetCapabilities.Labels : TargetCapabilities.Scores | TargetCapabilities.Labels;
    public override int Classes => Inner.Classes;
    public override int Height => Inner.Height;
    public override int Width => Inner.Width;
    public override int Channels => Inner.Channels;

    public void Identify(float[] clean, int[] labels)
    {
        (_clean, _labels) = (clean, labels);
        PerImage = [.. labels.Select(_ => new List<bool>())];
    }

    protected override float[] ComputeScores(ReadOnlySpan<float> x, int n)
    {
        BatchSizes.Add(n);
        float[] scores = Inner.Scores(x, n);
        int[] predicted = ArgMaxRows(scores, n, Classes);
        int size = ImageSize;
        for (int k = 0; k < n && PerImage.Length > 0; k++)
        {
            ReadOnlySpan<float> image = x.Slice(k * size, size);
            int nearest = 0;
            for (int i = 1; i < _labels.Length; i++)
            {
                if (Distance(image, _clean.AsSpan(i * size, size)) < Distance(image, _clean.AsSpan(nearest * size, size)))
                {
                    nearest = i;
                }
            }
            PerImage[nearest].Add(predicted[k] != _labels[nearest]);
        }
        return scores;
    }

    private static double Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double d = 0;
        for (int i = 0; i < a.Length; i++)
        {
            d += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return d;
    }

    public override void Dispose()
    {
        Inner.Dispose();
        base.Dispose();
    }
}
