using QnnLab.Hil;
using QnnLab.Protocol;

namespace QnnLab.Defences;

/// <summary>
/// What a board said of images under Feature Squeezing: its verdicts and the host engine's on the same images (BothLabel
/// -1 in both: the device core runs one squeezer per inference, so the chained squeeze is host-only), and how many of
/// its answers differed from the host engine's.
/// </summary>
public sealed record BoardSqueezeResult(string Board, string Backend, SqueezeVerdict[] Verdicts, SqueezeVerdict[] HostVerdicts, long Compared,
    long Mismatches, double Seconds);

/// <summary>
/// Feature Squeezing on a board (sim, QEMU or a serial one) through the protocol: every image's quantized input tensor
/// sent three times (bit depth alone, median alone, then the detector with the calibrated integer threshold), and every
/// answer checked logit by logit, and score and flag, against <see cref="IntegerSqueezedModel"/>.
/// </summary>
public static class BoardSqueezeCheck
{
    public static async Task<BoardSqueezeResult> RunAsync(BoardTarget board, string modelPath, IntegerSqueezedModel host, float[] images, int n,
        int threshold, BoardLaunchOptions? options = null, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        int size = host.ImageSize;
        var tensors = new short[n][];
        for (int i = 0; i < n; i++)
        {
            tensors[i] = host.Tensor(images.AsSpan(i * size, size));
        }
        using var hil = new EngineHilModel(modelPath);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using BoardSession session = await BoardSession.OpenAsync(board, (options ?? new BoardLaunchOptions()) with { Preloaded = [hil.Blob] }, ct)
            .ConfigureAwait(false);
        BoardConnection c = session.Connection;
        BoardInfo info = await HilRunner.PrepareBoardAsync(c, hil, SqueezeSettings.Off, ct).ConfigureAwait(false);
        FeatureSqueezing fs = host.Config;
        var phases = new (SqueezeConfig Config, Func<short[], short[]> Squeeze)[]
        {
            (new SqueezeConfig((byte)fs.BitDepth, 0, false, 0f), host.SqueezeBitDepth),
            (new SqueezeConfig(0, (byte)fs.WindowSize, false, 0f), host.SqueezeMedian),
            (new SqueezeConfig((byte)fs.BitDepth, (byte)fs.WindowSize, true, threshold), q => q),
        };
        var answers = new InferResult[phases.Length][];
        var expected = new int[phases.Length][][]; // the host's outputs per phase and image: the detector's score reuses phases 0 and 1
        long compared = 0, mismatches = 0;
        for (int p = 0; p < phases.Length; p++)
        {
            await c.SetSqueezeAsync(phases[p].Config, ct).ConfigureAwait(false);
            var got = new List<InferResult>(n);
            expected[p] = new int[n][];
            await foreach (InferResult r in c.InferManyAsync(tensors.Select(t => (ReadOnlyMemory<byte>)host.TensorBytes(t)), new InferOptions(InputTensor: true), ct)
                .ConfigureAwait(false))
            {
                int i = got.Count;
                got.Add(r);
                int[] e = expected[p][i] = host.Outputs(phases[p].Squeeze(tensors[i]));
                bool same = r.Logits.AsSpan().SequenceEqual(e) && r.Label == LogitBytes.ArgMax(e);
                if (phases[p].Config.Detector)
                {
                    int score = Score(expected, i);
                    same &= (int)r.DetectorScore == score && r.Adversarial == (score > threshold);
                }
                compared++;
                mismatches += same ? 0 : 1;
                progress?.Report((p * n) + i + 1);
            }
            answers[p] = [.. got];
        }
        var verdicts = new SqueezeVerdict[n];
        var hostVerdicts = new SqueezeVerdict[n];
        for (int i = 0; i < n; i++)
        {
            InferResult d = answers[2][i];
            verdicts[i] = new SqueezeVerdict(d.Label, answers[0][i].Label, answers[1][i].Label, -1, d.DetectorScore);
            hostVerdicts[i] = new SqueezeVerdict(LogitBytes.ArgMax(expected[2][i]), LogitBytes.ArgMax(expected[0][i]), LogitBytes.ArgMax(expected[1][i]), -1,
                Score(expected, i));
        }
        return new BoardSqueezeResult(info.Board, info.Backend, verdicts, hostVerdicts, compared, mismatches, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The detector's score of image i from the host's outputs: unsqueezed (phase 2) against each squeezed one.</summary>
    private static int Score(int[][][] expected, int i) =>
        Math.Max(IntegerSqueezedModel.L1(expected[2][i], expected[0][i]), IntegerSqueezedModel.L1(expected[2][i], expected[1][i]));
}
