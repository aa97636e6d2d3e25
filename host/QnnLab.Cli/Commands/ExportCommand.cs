using System.CommandLine;
using QnnLab.Engine;
using QnnLab.Firmware;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>`qnnlab export`: a quantized model as the device core's model blob (shared/model-blob/SPEC.md).</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        Option<string> model = CommonOptions.Model();
        Option<string> output = new("--out", "-o") { Description = "Output model blob (.qnnb)", Required = true };
        Option<string?> pixels = CommonOptions.PixelRange();
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("export", "Export an int8 or 16x8 model as a device model blob (every constant precomputed, arena planned)")
        {
            model, output, pixels, json,
        };
        cmd.SetAction(parse =>
        {
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!);
            (ModelBlob blob, string sha) = Export(path, CommonOptions.ParsePixelRange(parse.GetValue(pixels)));
            string outPath = parse.GetValue(output)!;
            string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
            }
            string tmp = outPath + ".tmp";
            File.WriteAllBytes(tmp, blob.Bytes);
            File.Move(tmp, outPath, overwrite: true);
            Console.Error.WriteLine($"wrote {outPath}: {blob.Bytes.Length} bytes, {blob.PrecisionName}, {blob.TensorCount} tensors, {blob.OpCount} ops, arena {blob.ArenaBytes} bytes, crc32 {blob.Crc32:x8}");
            if (parse.GetValue(json))
            {
                JsonOutput.Print(new Dictionary<string, object?>
                {
                    ["model"] = path,
                    ["model_sha256"] = sha,
                    ["out"] = outPath,
                    ["bytes"] = blob.Bytes.Length,
                    ["precision"] = blob.PrecisionName,
                    ["tensors"] = blob.TensorCount,
                    ["ops"] = blob.OpCount,
                    ["arena_bytes"] = blob.ArenaBytes,
                    ["input_bytes"] = blob.InputBytes,
                    ["outputs"] = blob.OutputCount,
                    ["crc32"] = blob.Crc32.ToString("x8", System.Globalization.CultureInfo.InvariantCulture),
                });
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>Loads, compiles and exports a quantized model file; the blob carries the file's SHA-256 prefix.</summary>
    public static (ModelBlob Blob, string Sha256) Export(string path, InputPreprocessing? preprocessing = null)
    {
        QnnModel m = ModelFiles.Load(path, preprocessing);
        if (m.Precision == Precision.Float)
        {
            throw new ModelException($"{path}: is a float model; quantize it first (qnnlab quantize) and export the int8/int16 model");
        }
        string sha = ModelFiles.Sha256(path);
        ModelBlob blob = BlobExporter.Export(IntegerModel.Compile(m), Convert.FromHexString(sha), Path.GetFileNameWithoutExtension(path));
        return (blob, sha);
    }
}
