using QnnLab.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences.Generative;

/// <summary>The generative model's shape: residual masked 3x3 layers after the 7x7 mask-A input layer, and their width.</summary>
public sealed record PixelCnnShape(int Height, int Width, int Channels, int Layers, int Hidden)
{
    public const int Levels = 256;

    /// <summary>Rows above (and columns either side) of a pixel that its distribution depends on: 3 from the 7x7 layer, 1 per 3x3 layer.</summary>
    public int Reach => 3 + Layers;

    public override string ToString() => FormattableString.Invariant(
        $"{Height}x{Width}x{Channels}, 7x7 mask-A layer + {Layers} residual 3x3 mask-B layers, {Hidden} channels");

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Layers, 1, "layers");
        ArgumentOutOfRangeException.ThrowIfLessThan(Hidden, 3, "channels");
        if (Height < 1 || Width < 1 || Channels < 1)
        {
            throw new ArgumentException($"image shape {Height}x{Width}x{Channels}");
        }
    }
}

/// <summary>
/// A PixelCNN (van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016, Section 3.5):
/// a 7x7 convolution with mask A (a pixel sees only the pixels before it in raster order), residual 3x3 layers with
/// mask B (they also see the position itself, which after mask A carries only the past), ReLU, two 1x1 layers, and a
/// 256-way softmax per colour channel. A colour channel also sees the earlier channels of its own pixel (R, then G,
/// then B, as in the paper) through a masked 1x1 connection from the input added to its logits: linear in those
/// values, which is enough to centre G's distribution on R's value (a logit a_v x + b_v with a_v ~ v, b_v ~ -v^2).
/// Because the deep part sees only earlier pixels, purification needs one forward pass per pixel: the past logits,
/// then channel by channel the within-pixel term of the values just chosen.
/// Input [N,H,W,C] in [0, 1] (scaled to [-1, 1] inside); output logits [N, C, 256, H, W].
/// </summary>
public sealed class PixelCnn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d _input;
    private readonly ModuleList<Conv2d> _layers;
    private readonly Conv2d _head1, _head2, _within;
    private readonly Tensor _maskA, _maskB, _maskWithin;

    public PixelCnn(PixelCnnShape shape, int seed) : base(LoadTorch("pixelcnn"))
    {
        shape.Validate();
        Shape = shape;
        manual_seed(seed);
        int c = shape.Channels, h = shape.Hidden;
        _input = nn.Conv2d(c, h, 7, padding: 3);
        _layers = new ModuleList<Conv2d>([.. Enumerable.Range(0, shape.Layers).Select(_ => nn.Conv2d(h, h, 3, padding: 1))]);
        _head1 = nn.Conv2d(h, h, 1);
        _head2 = nn.Conv2d(h, c * PixelCnnShape.Levels, 1);
        _within = nn.Conv2d(c, c * PixelCnnShape.Levels, 1, bias: false);
        // output channel o is the logit of colour o / 256: it sees input colours before that one
        var within = new float[c * PixelCnnShape.Levels * c];
        for (int o = 0; o < c * PixelCnnShape.Levels; o++)
        {
            for (int from = 0; from < o / PixelCnnShape.Levels; from++)
            {
                within[(o * c) + from] = 1;
            }
        }
        _maskWithin = tensor(within, [c * PixelCnnShape.Levels, c, 1, 1]);
        _maskA = Mask(7, includeCentre: false);
        _maskB = Mask(3, includeCentre: true);
        RegisterComponents();
    }

    public PixelCnnShape Shape { get; }

    /// <summary>libtorch must be loaded before the base constructor touches it.</summary>
    private static string LoadTorch(string name)
    {
        TorchRuntime.EnsureLoaded(null);
        return name;
    }

    /// <summary>Ones above the centre row and left of the centre in its row (and the centre itself for mask B).</summary>
    private static Tensor Mask(int k, bool includeCentre)
    {
        var m = new float[k * k];
        int centre = k / 2;
        for (int r = 0; r < k; r++)
        {
            for (int col = 0; col < k; col++)
            {
                m[(r * k) + col] = r < centre || (r == centre && (col < centre || (includeCentre && col == centre))) ? 1 : 0;
            }
        }
        return tensor(m, [1, 1, k, k]);
    }

    public override Tensor forward(Tensor unitNhwc)
    {
        using var scope = NewDisposeScope();
        Tensor x = Scaled(unitNhwc);
        Tensor logits = PastNchw(x).add(F.conv2d(x, _within.weight!.mul(_maskWithin)), Scalars.One);
        return AsLevels(logits).MoveToOuterDisposeScope();
    }

    /// <summary>The logits before a pixel's own earlier channels are added: a function of the earlier pixels only.</summary>
    public Tensor PastLogits(Tensor unitNhwc)
    {
        using var scope = NewDisposeScope();
        return AsLevels(PastNchw(Scaled(unitNhwc))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The within-pixel weights [C, 256, C] (masked: colour c's logits see colours before c): logit(c, v) gains
    /// sum over c' &lt; c of w[c, v, c'] (2 x_c' - 1) for the pixel's values x in [0, 1].
    /// </summary>
    public float[] WithinPixelWeights()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return _within.weight!.mul(_maskWithin).contiguous().data<float>().ToArray();
    }

    private static Tensor Scaled(Tensor unitNhwc) => unitNhwc.permute(0, 3, 1, 2).mul(Scalars.Of(2)).sub(Scalars.One);

    private Tensor PastNchw(Tensor x)
    {
        Tensor a = F.conv2d(x, _input.weight!.mul(_maskA), _input.bias, padding: [3, 3]);
        foreach (Conv2d layer in _layers)
        {
            // alpha given as a held Scalar: add's default one is a temporary the GC may finalize mid-call (Scalars)
            a = a.add(F.conv2d(F.relu(a), layer.weight!.mul(_maskB), layer.bias, padding: [1, 1]), Scalars.One);
        }
        return _head2.forward(F.relu(_head1.forward(F.relu(a))));
    }

    private Tensor AsLevels(Tensor logits) => logits.view(logits.shape[0], Shape.Channels, PixelCnnShape.Levels, logits.shape[2], logits.shape[3]);

    /// <summary>Mean negative log-likelihood per sub-pixel (nats) of images given as bytes [N,H,W,C].</summary>
    public Tensor Loss(Tensor unitNhwc, Tensor targetNhwcLong)
    {
        Tensor logits = forward(unitNhwc);            // [N, C, 256, H, W]
        Tensor target = targetNhwcLong.permute(0, 3, 1, 2); // [N, C, H, W]
        return F.cross_entropy(logits.permute(0, 2, 1, 3, 4), target);
    }

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Multiply-accumulates of one forward pass over an h x w input.</summary>
    public long Macs(int h, int w)
    {
        long px = (long)h * w, c = Shape.Channels, hid = Shape.Hidden;
        return px * ((c * hid * 49) + (Shape.Layers * hid * hid * 9) + (hid * hid) + (hid * c * PixelCnnShape.Levels) + (c * c * PixelCnnShape.Levels));
    }

    /// <summary>
    /// Float32 bytes of the activations of one whole-image pass of <see cref="PastLogits"/> (what purification runs):
    /// every tensor the graph produces (a framework without memory reuse), the peak of those alive at once when each
    /// is freed after its last use, and the logits alone.
    /// </summary>
    public (long Total, long Peak, long Logits) ActivationBytes()
    {
        long px = (long)Shape.Height * Shape.Width, hid = px * Shape.Hidden * 4, input = px * Shape.Channels * 4;
        long logits = px * Shape.Channels * PixelCnnShape.Levels * 4;
        // Scaling: x * 2, then - 1; the 7x7 layer; per residual layer relu(a), conv(relu(a)), a + conv; the head
        // relu(a), head1, relu(head1), then the logits.
        long total = (2 * input) + hid + (Shape.Layers * 3 * hid) + (3 * hid) + logits;
        long peak = Math.Max(3 * hid, hid + logits); // residual layer: a, relu(a), conv output; head: relu(head1), logits
        return (total, peak, logits);
    }
}
