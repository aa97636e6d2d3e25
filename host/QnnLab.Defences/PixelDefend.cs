// Pixel Defend
//   Paper:  Y. Song, T. Kim, S. Nowozin, S. Ermon, N. Kushman, "PixelDefend: Leveraging Generative Models to Understand
//           and Defend against Adversarial Examples", ICLR 2018 (Algorithm 1); as a defence in "David and Goliath"
//           Table 12 (settings: Table 15, CIFAR-10 only).
//   Norm:   Linf (each sub-pixel stays within eps of the input, in 8-bit units).
//   Method: the input is rounded to 8 bits; then, pixel by pixel in raster order, each channel is set to its most
//           likely value under the PixelCNN given the already purified pixels (and the pixel's channels already set,
//           R then G then B), among the values within +-eps of the input's (clipped to 0..255). One forward pass per
//           pixel: our PixelCNN's deep part sees only earlier pixels and its within-pixel term is linear
//           (Generative/PixelCnn.cs), added channel by channel.
//   Exact and fast: a pixel's distribution depends only on the Reach rows above it and Reach columns either side, so
//           each forward pass runs on that window of the image, not on the whole of it: the same numbers, ~7x fewer MACs.
//   Defaults (ART PixelDefend): eps=16 (8-bit units), batch_size=128. Paper (Table 15): eps 38.
//   Not for an MCU: the paper's PixelCNN has over 2M parameters; ours and its cost are reported by `defend pixeldefend`.
using QnnLab.Attacks;
using QnnLab.Defences.Generative;
using QnnLab.Torch;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences;

public sealed class PixelDefend
{
    public sealed class Options : AttackParameters
    {
        [Param("eps", "largest change of a sub-pixel, in 8-bit units (0..255)")]
        public int Eps { get; set; } = 16;

        [Param("batch_size", "images purified together")]
        public int BatchSize { get; set; } = 128;

        public void Validate()
        {
            ArgumentOutOfRangeException.ThrowIfNegative(Eps, "eps");
            ArgumentOutOfRangeException.ThrowIfGreaterThan(Eps, 255, "eps");
            ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, "batch_size");
        }
    }

    /// <summary>The paper's Table 15 configuration (CIFAR-10: eps 38).</summary>
    public static Options Preset(string dataset) => dataset switch
    {
        "cifar10" => new Options { Eps = 38, BatchSize = 50 },
        _ => throw new ArgumentException($"preset '{dataset}': the paper runs Pixel Defend on cifar10 only"),
    };

    private readonly PixelCnn _model;

    public PixelDefend(PixelCnn model, Options options)
    {
        options.Validate();
        _model = model;
        Config = options;
    }

    public Options Config { get; }

    /// <summary>Rounds [0, 1] values to 8-bit sub-pixels, as the purification (and an 8-bit camera) sees them.</summary>
    public static byte[] ToBytes(ReadOnlySpan<float> unit)
    {
        var b = new byte[unit.Length];
        for (int i = 0; i < unit.Length; i++)
        {
            b[i] = (byte)Math.Clamp(MathF.Round(unit[i] * 255f, MidpointRounding.AwayFromZero), 0, 255);
        }
        return b;
    }

    /// <summary>Multiply-accumulates the purification of one image costs (the windowed forward passes).</summary>
    public long MacsPerImage()
    {
        PixelCnnShape s = _model.Shape;
        long macs = 0;
        for (int i = 0; i < s.Height; i++)
        {
            for (int j = 0; j < s.Width; j++)
            {
                (int r0, int c0, int c1) = Window(s, i, j);
                macs += _model.Macs(i + 1 - r0, c1 - c0);
            }
        }
        return macs;
    }

    private static (int R0, int C0, int C1) Window(PixelCnnShape s, int i, int j)
        => (Math.Max(0, i - s.Reach), Math.Max(0, j - s.Reach), Math.Min(s.Width, j + s.Reach + 1));

    /// <summary>Purifies n images of 8-bit sub-pixels [n,H,W,C] (HWC each); returns the purified sub-pixels.</summary>
    public byte[] Purify(ReadOnlySpan<byte> images, int n, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        PixelCnnShape s = _model.Shape;
        int size = s.Height * s.Width * s.Channels;
        if (images.Length != n * size)
        {
            throw new ArgumentException($"{images.Length} sub-pixels for {n} images of {s.Height}x{s.Width}x{s.Channels}");
        }
        var output = new byte[images.Length];
        for (int b = 0; b < n; b += Config.BatchSize)
        {
            int k = Math.Min(Config.BatchSize, n - b);
            PurifyBatch(images.Slice(b * size, k * size), k, output.AsSpan(b * size, k * size), ct);
            progress?.Report(b + k);
        }
        return output;
    }

    private void PurifyBatch(ReadOnlySpan<byte> original, int n, Span<byte> purified, CancellationToken ct)
    {
        PixelCnnShape s = _model.Shape;
        int h = s.Height, w = s.Width, c = s.Channels, size = h * w * c;
        original.CopyTo(purified);
        _model.eval();
        float[] within = _model.WithinPixelWeights();
        using var noGrad = no_grad();
        var window = new float[n * (s.Reach + 1) * Math.Min(w, (2 * s.Reach) + 1) * c];
        for (int i = 0; i < h; i++)
        {
            for (int j = 0; j < w; j++)
            {
                ct.ThrowIfCancellationRequested();
                (int r0, int c0, int c1) = Window(s, i, j);
                int wh = i + 1 - r0, ww = c1 - c0, wsize = wh * ww * c;
                // The window of the current (partly purified) images; what lies at and after (i, j) is masked out anyway.
                for (int img = 0; img < n; img++)
                {
                    for (int r = 0; r < wh; r++)
                    {
                        for (int col = 0; col < ww; col++)
                        {
                            int src = (img * size) + ((((r0 + r) * w) + c0 + col) * c), dst = (img * wsize) + (((r * ww) + col) * c);
                            for (int ch = 0; ch < c; ch++)
                            {
                                window[dst + ch] = purified[src + ch] / 255f;
                            }
                        }
                    }
                }
                float[] logits;
                using (NewDisposeScope())
                {
                    Tensor x = tensor(window.AsSpan(0, n * wsize).ToArray(), [n, wh, ww, c]);
                    // [n, C, 256] at the pixel's place in the window
                    logits = _model.PastLogits(x).select(4, j - c0).select(3, i - r0).contiguous().data<float>().ToArray();
                }
                Choose(logits, within, original, purified, n, i, j);
            }
        }
    }

    /// <summary>
    /// Sets pixel (i, j) of every image, channel by channel, to its most likely value within eps of the original's: the
    /// past logits plus the within-pixel term of the channels already chosen.
    /// </summary>
    private void Choose(ReadOnlySpan<float> past, float[] within, ReadOnlySpan<byte> original, Span<byte> purified, int n, int i, int j)
    {
        PixelCnnShape s = _model.Shape;
        int c = s.Channels, size = s.Height * s.Width * c, levels = PixelCnnShape.Levels;
        Span<float> logits = stackalloc float[levels];
        for (int img = 0; img < n; img++)
        {
            int pixel = (img * size) + (((i * s.Width) + j) * c);
            for (int ch = 0; ch < c; ch++)
            {
                int at = pixel + ch;
                past.Slice(((img * c) + ch) * levels, levels).CopyTo(logits);
                for (int from = 0; from < ch; from++)
                {
                    float value = (2f * purified[pixel + from] / 255f) - 1f;
                    for (int v = 0; v < levels; v++)
                    {
                        logits[v] += within[(((ch * levels) + v) * c) + from] * value;
                    }
                }
                int lo = Math.Max(0, original[at] - Config.Eps), hi = Math.Min(levels - 1, original[at] + Config.Eps), best = lo;
                for (int v = lo + 1; v <= hi; v++)
                {
                    if (logits[v] > logits[best])
                    {
                        best = v;
                    }
                }
                purified[at] = (byte)best;
            }
        }
    }

    /// <summary>The same purification with whole-image forward passes (slow): tests check the windowed one against it.</summary>
    public byte[] PurifyWholeImage(ReadOnlySpan<byte> images, int n)
    {
        PixelCnnShape s = _model.Shape;
        int h = s.Height, w = s.Width, c = s.Channels;
        byte[] purified = images.ToArray();
        _model.eval();
        float[] within = _model.WithinPixelWeights();
        using var noGrad = no_grad();
        for (int i = 0; i < h; i++)
        {
            for (int j = 0; j < w; j++)
            {
                float[] logits;
                using (NewDisposeScope())
                {
                    Tensor x = tensor(purified.Select(v => v / 255f).ToArray(), [n, h, w, c]);
                    logits = _model.PastLogits(x).select(4, j).select(3, i).contiguous().data<float>().ToArray();
                }
                Choose(logits, within, images, purified, n, i, j);
            }
        }
        return purified;
    }
}
