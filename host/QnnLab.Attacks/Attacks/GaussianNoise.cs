namespace QnnLab.Attacks.Attacks;

/// <summary>
/// A seeded source of standard normal (and uniform) noise fast enough for attacks that draw a Gaussian per input value
/// per candidate: Boundary draws 3,072 per CIFAR candidate, and with <see cref="Random"/> and Box-Muller (a log, a
/// square root and a cosine per value, ~90 µs a candidate here) that cost more than the int8 engine's inference of the
/// candidate. Uniforms come from xoshiro256** (Blackman and Vigna), seeded through SplitMix64; normals from the
/// ziggurat method (Marsaglia and Tsang 2000) with Doornik's 128-layer tables (2005): about 99 % of the draws cost one
/// 64-bit step, a table lookup and a compare, and the rest fall back to the exact wedge or tail sampling. Plain scalar
/// code, so the same seed gives the same draws on every CPU.
/// </summary>
public sealed class GaussianNoise
{
    private const int Layers = 128;
    private const double TailStart = 3.442619855899; // r: where the base layer's tail begins
    private const double LayerArea = 9.91256303526217e-3; // v: the area of each layer

    // X[i]: the right edge of layer i (X[0] the base layer's equal-area width, X[Layers] = 0); Ratio[i] = X[i + 1] / X[i]
    private static readonly double[] X = LayerEdges();
    private static readonly double[] Ratio = [.. Enumerable.Range(0, Layers).Select(i => X[i + 1] / X[i])];

    private Xoshiro256 _state;

    public GaussianNoise(ulong seed) => _state = new Xoshiro256(seed);

    /// <summary>The per-image source of the query attacks that use it: the batch seed and the image's position.</summary>
    public static GaussianNoise ForImage(int seed, int image) => new(((ulong)(uint)seed << 32) | (uint)image);

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => _state.NextDouble();

    /// <summary>Fills <paramref name="destination"/> with uniforms in [0, 1] (a double just under 1 rounds to 1f).</summary>
    public void FillUniform(Span<float> destination)
    {
        Xoshiro256 r = _state; // a local copy the JIT keeps in registers
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)r.NextDouble();
        }
        _state = r;
    }

    /// <summary>Fills <paramref name="destination"/> with independent standard normal draws.</summary>
    public void FillNormal(Span<double> destination)
    {
        double[] edge = X, ratio = Ratio;
        Xoshiro256 r = _state; // a local copy the JIT keeps in registers on the fast path
        for (int k = 0; k < destination.Length; k++)
        {
            ulong bits = r.Next();
            int i = (int)(bits & (Layers - 1)); // the low 7 bits pick the layer, the top 52 the position in it
            double u = Signed(bits);
            if (Math.Abs(u) < ratio[i])
            {
                destination[k] = u * edge[i]; // inside the rectangle under the next layer: no density to check
                continue;
            }
            _state = r;
            destination[k] = Rejected(i, u);
            r = _state;
        }
        _state = r;
    }

    /// <summary>The draws outside a layer's inner rectangle (about 1 %): the wedge test, or the tail for the base layer.</summary>
    private double Rejected(int i, double u)
    {
        while (true)
        {
            if (i == 0)
            {
                return Tail(u < 0);
            }
            double x = u * X[i];
            double outer = Math.Exp(-0.5 * ((X[i] * X[i]) - (x * x)));
            double inner = Math.Exp(-0.5 * ((X[i + 1] * X[i + 1]) - (x * x)));
            if (inner + (_state.NextDouble() * (outer - inner)) < 1.0)
            {
                return x; // under the density in the layer's wedge
            }
            ulong bits = _state.Next();
            i = (int)(bits & (Layers - 1));
            u = Signed(bits);
            if (Math.Abs(u) < Ratio[i])
            {
                return u * X[i];
            }
        }
    }

    /// <summary>A uniform in [-1, 1) from the top 52 bits: the double 1.m in [1, 2) whose mantissa they are, rescaled.</summary>
    private static double Signed(ulong bits) => (2 * BitConverter.Int64BitsToDouble((long)((bits >> 12) | 0x3FF0000000000000UL))) - 3;

    /// <summary>Marsaglia's exact sampling of the normal tail beyond <see cref="TailStart"/>.</summary>
    private double Tail(bool negative)
    {
        double x, y;
        do
        {
            x = Math.Log(1 - _state.NextDouble()) / TailStart;
            y = Math.Log(1 - _state.NextDouble());
        }
        while (-2 * y < x * x);
        return negative ? x - TailStart : TailStart - x;
    }

    private static double[] LayerEdges()
    {
        var x = new double[Layers + 1];
        double f = Math.Exp(-0.5 * TailStart * TailStart);
        x[0] = LayerArea / f;
        x[1] = TailStart;
        for (int i = 2; i < Layers; i++)
        {
            x[i] = Math.Sqrt(-2 * Math.Log((LayerArea / x[i - 1]) + f));
            f = Math.Exp(-0.5 * x[i] * x[i]);
        }
        x[Layers] = 0;
        return x;
    }

    private struct Xoshiro256
    {
        private ulong _s0, _s1, _s2, _s3;

        public Xoshiro256(ulong seed)
        {
            ulong z = seed;
            _s0 = SplitMix64(ref z);
            _s1 = SplitMix64(ref z);
            _s2 = SplitMix64(ref z);
            _s3 = SplitMix64(ref z);
        }

        public double NextDouble() => (long)(Next() >> 11) * (1.0 / (1UL << 53));

        public ulong Next()
        {
            ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            ulong t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }

        private static ulong SplitMix64(ref ulong state)
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
