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
/// 256-way softmax per colour channel. The colour channels of one pixel are modelled independent given all earlier
/// pixels (no R-before-G-before-B masks): p(x) = prod over pixels and channels of p(x_ijc | x_&lt;ij). That keeps
/// purification at one forward pass per pixel instead of three; the model's bits/dim are those of this factorisation.
/// Input [N,H,W,C] in [0, 1] (scaled to [-1, 1] inside); output logits [N, C, 256, H, W].
/// </summary>
public sealed class PixelCnn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d _input;
    private readonly ModuleList<Conv2d> _layers;
    private readonly Conv2d _head1, _head2;
    private readonly Tensor _maskA, _maskB;

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
        Tensor x = unitNhwc.permute(0, 3, 1, 2).mul(Scalars.Of(2)).sub(Scalars.One);
        Tensor a = F.conv2d(x, _input.weight!.mul(_maskA), _input.bias, padding: [3, 3]);
        foreach (Conv2d layer in _layers)
        {
            a = a.add(F.conv2d(F.relu(a), layer.weight!.mul(_maskB), layer.bias, padding: [1, 1]));
        }
        Tensor logits = _head2.forward(F.relu(_head1.forward(F.relu(a))));
        long n = logits.shape[0], hh = logits.shape[2], ww = logits.shape[3];
        return logits.view(n, Shape.Channels, PixelCnnShape.Levels, hh, ww).MoveToOuterDisposeScope();
    }

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
        return px * ((c * hid * 49) + (Shape.Layers * hid * hid * 9) + (hid * hid) + (hid * c * PixelCnnShape.Levels));
    }

    /// <summary>
    /// Float32 bytes of the activations of one full-image forward pass: every tensor the graph produces (a framework
    /// without memory reuse), and the peak of those alive at once when each is freed after its last use.
    /// </summary>
    public (long Total, long Peak) ActivationBytes()
    {
        long px = (long)Shape.Height * Shape.Width, hid = px * Shape.Hidden * 4, input = px * Shape.Channels * 4;
        long logits = px * Shape.Channels * PixelCnnShape.Levels * 4;
        // Per residual layer: relu(a), conv(relu(a)), a + conv; the head: relu(a), head1, relu(head1), logits.
        long total = input + hid + (Shape.Layers * 3 * hid) + (3 * hid) + logits;
        long peak = Math.Max(3 * hid, hid + logits); // residual layer: a, relu(a), conv output; head: relu(head1), logits
        return (total, peak);
    }
}
