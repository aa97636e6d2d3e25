using System.Buffers.Binary;
using System.Text;
using QnnLab.Engine;
using QnnLab.Model;

namespace QnnLab.Firmware.Tests;

[TestClass]
public sealed class BlobExporterTests
{
    private const int QnnOk = 0, QnnMagic = 3, QnnChecksum = 5, QnnTruncated = 2, QnnOp = 9, QnnArena = 13, QnnArenaTooSmall = 14;

    private static ModelBlob Export(string relative, out IntegerModel compiled)
    {
        QnnModel m = GoldenModels.Load(relative);
        compiled = IntegerModel.Compile(m);
        return BlobExporter.Export(compiled, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), "resnet");
    }

    [TestMethod]
    public void Crc32MatchesTheStandardCheckValue()
    {
        // The CRC-32/ISO-HDLC check value of "123456789" (the zlib CRC), from the CRC catalogue.
        Assert.AreEqual(0xCBF43926u, Crc32.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [TestMethod]
    [DataRow(GoldenModels.CifarInt8)]
    [DataRow(GoldenModels.CifarInt16)]
    [DataRow(GoldenModels.VwwInt8)]
    [DataRow(GoldenModels.VwwInt16)]
    public void TheDeviceValidatorAcceptsExportedModelsAndReadsTheirShape(string relative)
    {
        ModelBlob blob = Export(relative, out IntegerModel compiled);
        (int status, string line) = CoreTools.Check(blob.Bytes);
        Assert.AreEqual(QnnOk, status, line);
        TensorSlot input = compiled.Input;
        int precision = compiled.ActivationType == ElementType.Int8 ? 1 : 2;
        StringAssert.Contains(line, $"precision={precision} tensors={blob.TensorCount} ops={compiled.Ops.Count} arena={compiled.ArenaBytesPerImage}");
        StringAssert.Contains(line, $"input={input.Height}x{input.Width}x{input.Channels} outputs={compiled.OutputSize}");
        Assert.AreEqual(0, blob.Bytes.Length % 8);
        Assert.AreEqual((uint)blob.Bytes.Length, BinaryPrimitives.ReadUInt32LittleEndian(blob.Bytes.AsSpan(BlobFormat.OffTotalSize)));
        CollectionAssert.AreEqual(Enumerable.Range(0, 16).Select(i => (byte)i).ToArray(), blob.Bytes[16..32], "first 16 bytes of the model hash");
    }

    [TestMethod]
    [DataRow(GoldenModels.CifarInt8, 1f / 255f)]
    [DataRow(GoldenModels.VwwInt8, 1f / 255f)]
    [DataRow(GoldenModels.MlperfVwwInt8, 1f / 255f)]
    [DataRow(GoldenModels.MlperfResnetInt8, 1f)]
    public void Int8InputTablesArePixelMinus128(string relative, float inputScale)
    {
        // SPEC "Input quantization": scale 1/255 on x = p/255 (the paper's models, MLPerf's VWW), or scale 1 on the
        // raw pixel (MLPerf's ResNet-8), zero point -128 -> q = p - 128 either way.
        ModelBlob blob = Export(relative, out IntegerModel compiled);
        Assert.AreEqual(inputScale, compiled.InputQuantization.Scale, 1e-9f);
        Assert.AreEqual(-128, compiled.InputQuantization.ZeroPoint);
        short[] table = ReadShorts(blob.Bytes, BlobFormat.OffInputTable, 256);
        for (int p = 0; p < 256; p++)
        {
            Assert.AreEqual(p - 128, table[p], $"pixel {p}");
        }
        // Bit depth b: level k of L = 2^b - 1 is the pixel 255k/L, i.e. round(255k/L) - 128.
        short[] sq = ReadShorts(blob.Bytes, BlobFormat.OffSqueezeTable, 254);
        for (int bits = 1; bits <= 7; bits++)
        {
            int levels = (1 << bits) - 1;
            for (int k = 0; k <= levels; k++)
            {
                int expected = (int)Math.Round(255.0 * k / levels, MidpointRounding.AwayFromZero) - 128;
                Assert.AreEqual(expected, sq[(1 << bits) - 2 + k], $"bits {bits} level {k}");
            }
        }
    }

    [TestMethod]
    [DataRow(GoldenModels.CifarInt16)]
    [DataRow(GoldenModels.VwwInt16)]
    public void Int16InputTablesRoundHalfAwayFromZero(string relative)
    {
        // The paper's int16 models: x = p/255, scale ~1/32767, zero point 0 -> round(p/255/scale); p/255*32767 is
        // never within float error of a half, so the exact double formula must agree.
        ModelBlob blob = Export(relative, out IntegerModel compiled);
        (float scale, int zp) = compiled.InputQuantization;
        Assert.AreEqual(0, zp);
        short[] table = ReadShorts(blob.Bytes, BlobFormat.OffInputTable, 256);
        for (int p = 0; p < 256; p++)
        {
            double exact = p / 255.0 / scale;
            Assert.AreEqual((int)Math.Round(exact, MidpointRounding.AwayFromZero), table[p], $"pixel {p} ({exact})");
        }
        Assert.AreEqual(0, table[0]);
        Assert.IsTrue(table.Zip(table.Skip(1)).All(t => t.First < t.Second), "strictly increasing");
        // Bit depth b: level k of L = 2^b - 1 is x = k / L, so q = round(k / L / scale).
        short[] sq = ReadShorts(blob.Bytes, BlobFormat.OffSqueezeTable, 254);
        for (int bits = 1; bits <= 7; bits++)
        {
            int levels = (1 << bits) - 1;
            for (int k = 0; k <= levels; k++)
            {
                double exact = (double)k / levels / scale;
                Assert.AreEqual((int)Math.Round(exact, MidpointRounding.AwayFromZero), sq[(1 << bits) - 2 + k], $"bits {bits} level {k} ({exact})");
            }
        }
    }

    [TestMethod]
    public void CorruptedBlobsAreRefusedByTheDeviceValidator()
    {
        byte[] good = Export(GoldenModels.CifarInt8, out _).Bytes;
        Assert.AreEqual(QnnOk, CoreTools.Check(good).Status);

        byte[] flipped = (byte[])good.Clone();
        flipped[^100] ^= 0x10; // a weight byte: only the CRC notices
        Assert.AreEqual(QnnChecksum, CoreTools.Check(flipped).Status);

        byte[] magic = (byte[])good.Clone();
        magic[0] = (byte)'X';
        Assert.AreEqual(QnnMagic, CoreTools.Check(magic).Status);

        Assert.AreEqual(QnnTruncated, CoreTools.Check(good[..(good.Length - 8)]).Status);

        // Structural damage with a correct CRC: the validator must still refuse it.
        byte[] kind = WithCrc(good, b => b[BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(BlobFormat.OffOpTable))] = 99);
        Assert.AreEqual(QnnOp, CoreTools.Check(kind).Status);
        byte[] arena = WithCrc(good, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(BlobFormat.OffArenaSize), 64u * 1024 * 1024));
        Assert.AreEqual(QnnArenaTooSmall, CoreTools.Check(arena).Status);
        // Put the second activation on top of the first (the input, live while op 0 writes the second).
        byte[] overlap = WithCrc(good, b =>
        {
            int tt = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(BlobFormat.OffTensorTable));
            int input = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(BlobFormat.OffInput));
            int op0Out = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(BlobFormat.OffOpTable)) + 10));
            uint inOff = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(tt + (input * 32) + 24));
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(tt + (op0Out * 32) + 24), inOff);
        });
        Assert.AreEqual(QnnArena, CoreTools.Check(overlap).Status);
    }

    private static byte[] WithCrc(byte[] good, Action<byte[]> edit)
    {
        byte[] b = (byte[])good.Clone();
        edit(b);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(BlobFormat.OffCrc), Crc32.Compute(b, BlobFormat.OffCrc));
        return b;
    }

    private static short[] ReadShorts(byte[] blob, int headerField, int count)
    {
        int off = BinaryPrimitives.ReadInt32LittleEndian(blob.AsSpan(headerField));
        return Enumerable.Range(0, count).Select(i => BinaryPrimitives.ReadInt16LittleEndian(blob.AsSpan(off + (2 * i)))).ToArray();
    }
}
