using System.Runtime.InteropServices;
using QnnLab.Data;
using QnnLab.Engine;
using QnnLab.Hil;
using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Firmware.Tests;

/// <summary>
/// The host's squeezers (<see cref="HostSqueeze"/>, <see cref="TensorSqueezer"/>) and the device core's give the same
/// quantized model input, element for element: on pixels and on quantized tensors off the pixel grid, for every bit
/// depth 1..8 and every median window 2..7 (the golden runner's input-out dump of what the model would run on).
/// </summary>
[TestClass]
public sealed class SqueezeAgreementTests
{
    private const int Images = 3;

    [TestMethod]
    [DataRow(GoldenModels.CifarInt8)]
    [DataRow(GoldenModels.CifarInt16)]
    [DataRow(GoldenModels.VwwInt16)]
    public void HostAndDeviceSqueezersGiveTheSameInputTensor(string relative)
    {
        QnnModel model = GoldenModels.Load(relative);
        IntegerModel compiled = IntegerModel.Compile(model);
        bool int8 = compiled.ActivationType == ElementType.Int8;
        ImageSet set = GoldenModels.Inputs(relative, Images);
        int size = set.ImageSize;
        string dir = TestData.TempDir();
        string blob = Path.Combine(dir, "model.qnnb");
        File.WriteAllBytes(blob, BlobExporter.Export(compiled).Bytes);
        string pixelFile = GoldenModels.WritePixels(set, Images, dir);

        // Off-grid tensors, as adversarial examples arrive: each image's quantized input plus seeded noise of a few
        // pixel steps (int16: up to ~2.3 pixels; int8: up to 3 steps), clamped to the type's range.
        var rng = new Random(5);
        var tensors = new short[Images * size];
        var px = new float[size];
        var q = new short[size];
        for (int i = 0; i < Images; i++)
        {
            set.CopyImage(i, px);
            Quantize(compiled, model, px, q);
            for (int j = 0; j < size; j++)
            {
                int noise = int8 ? rng.Next(-3, 4) : rng.Next(-300, 301);
                tensors[(i * size) + j] = (short)Math.Clamp(q[j] + noise, int8 ? sbyte.MinValue : short.MinValue, int8 ? sbyte.MaxValue : short.MaxValue);
            }
        }
        string tensorFile = Path.Combine(dir, "tensors.bin");
        File.WriteAllBytes(tensorFile, Encode(tensors, int8));

        var squeezer = new TensorSqueezer(compiled);
        var squeezers = Enumerable.Range(1, 8).Select(b => $"bits:{b}").Concat(Enumerable.Range(2, 6).Select(k => $"median:{k}"));
        foreach (string sq in squeezers)
        {
            bool median = sq.StartsWith("median", StringComparison.Ordinal);
            int param = int.Parse(sq[(sq.IndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            var wantPixels = new short[Images * size];
            var wantTensors = new short[Images * size];
            for (int i = 0; i < Images; i++)
            {
                ReadOnlySpan<byte> image = set.Pixels!.AsSpan(i * size, size);
                float[] squeezed = median
                    ? Array.ConvertAll(HostSqueeze.Median(image, set.Height, set.Width, set.Channels, param), b => (float)b)
                    : HostSqueeze.BitDepth(image, param);
                Quantize(compiled, model, squeezed, wantPixels.AsSpan(i * size, size));
                ReadOnlySpan<short> t = tensors.AsSpan(i * size, size);
                short[] st = median ? HostSqueeze.Median(t, set.Height, set.Width, set.Channels, param) : squeezer.BitDepth(t, param);
                st.CopyTo(wantTensors, i * size);
            }
            AssertDeviceInput(blob, pixelFile, [sq], Encode(wantPixels, int8), $"{relative} pixels {sq}");
            AssertDeviceInput(blob, tensorFile, [sq, "tensor"], Encode(wantTensors, int8), $"{relative} tensors {sq}");
        }
    }

    [TestMethod]
    [DataRow(GoldenModels.CifarInt8)]
    [DataRow(GoldenModels.CifarInt16)]
    [DataRow(GoldenModels.VwwInt8)]
    [DataRow(GoldenModels.VwwInt16)]
    public void OnThePixelGridATensorTakesThePixelsLevel(string relative)
    {
        // SPEC: squeezing the quantized tensor of a pixel equals squeezing the pixel, for every pixel and bit depth.
        IntegerModel compiled = IntegerModel.Compile(GoldenModels.Load(relative));
        var squeezer = new TensorSqueezer(compiled);
        short[] inputTable = BlobExporter.InputTable(compiled);
        for (int bits = 1; bits <= 8; bits++)
        {
            for (int p = 0; p < 256; p++)
            {
                int level = HostSqueeze.BitDepthLevel((byte)p, bits);
                Assert.AreEqual(level, squeezer.Level(inputTable[p], bits), $"p={p} bits={bits}");
            }
        }
    }

    private static void AssertDeviceInput(string blob, string inputs, string[] options, byte[] want, string what)
    {
        string output = Path.Combine(Path.GetDirectoryName(inputs)!, "device-input.bin");
        ToolResult r = Tool.Run(CoreTools.GoldenRunner, [blob, inputs, "-", "portable", .. options, "input-out:" + output]);
        Assert.AreEqual(0, r.ExitCode, what + ": " + r.Output + r.Error);
        byte[] got = File.ReadAllBytes(output);
        Assert.HasCount(want.Length, got, what);
        int first = Enumerable.Range(0, want.Length).FirstOrDefault(i => want[i] != got[i], -1);
        Assert.AreEqual(-1, first, $"{what}: first differing byte {first}");
    }

    private static void Quantize(IntegerModel compiled, QnnModel model, ReadOnlySpan<float> pixels, Span<short> destination)
    {
        if (compiled.ActivationType == ElementType.Int8)
        {
            var q8 = new sbyte[pixels.Length];
            EngineIo.QuantizeInput(compiled, pixels, model.Preprocessing, q8);
            for (int i = 0; i < q8.Length; i++)
            {
                destination[i] = q8[i];
            }
        }
        else
        {
            EngineIo.QuantizeInput(compiled, pixels, model.Preprocessing, destination);
        }
    }

    private static byte[] Encode(short[] values, bool int8) =>
        int8 ? Array.ConvertAll(values, v => (byte)(sbyte)v) : MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
