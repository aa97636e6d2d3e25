using System.CommandLine;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.Tflite;

namespace QnnLab.Cli;

/// <summary>`qnnlab quantize`: TFLite-style post-training quantization of a float model to a .tflite.</summary>
public static class QuantizeCommand
{
    public static Command Create()
    {
        Option<string> model = CommonOptions.Model();
        Option<string> precision = new("--precision", "-p") { Description = "int8 or int16 (16x8)", Required = true };
        Option<string> calibration = CommonOptions.Data("--calibration");
        Option<string> output = new("--out", "-o") { Description = "Output .tflite file", Required = true };
        Option<int?> limit = CommonOptions.Limit();
        Option<string?> pixels = CommonOptions.PixelRange();
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("quantize", "Quantize a float model (.h5 or float .tflite) to int8 or 16x8 as TFLite's converter does")
        {
            model, precision, calibration, output, limit, pixels, json,
        };
        cmd.SetAction(parse =>
        {
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!);
            QnnModel m = ModelFiles.Load(path, CommonOptions.ParsePixelRange(parse.GetValue(pixels)));
            if (m.Precision != Precision.Float)
            {
                throw new ModelException($"{path}: is already a {ModelFiles.Name(m.Precision)} model; quantize a float model");
            }
            Precision p = ModelFiles.ParsePrecision(parse.GetValue(precision)!);
            if (p == Precision.Float)
            {
                throw new ArgumentException("--precision must be int8 or int16");
            }
            ImageSet calib = CommonOptions.LoadData(parse.GetValue(calibration)!, m, parse.GetValue(limit));
            Console.Error.WriteLine($"calibrating on {calib.Count} images from {calib.Source}...");
            QnnModel q = Classifiers.Quantize(m, p, calib);
            string outPath = parse.GetValue(output)!;
            string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
            // Write beside the target and rename: a failed write (full disk) leaves no truncated model.
            string tmp = outPath + ".tmp";
            try
            {
                if (dir is not null)
                {
                    Directory.CreateDirectory(dir);
                }
                TfliteWriter.Write(q, tmp);
                File.Move(tmp, outPath, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"{outPath}: cannot write the model ({e.Message})", e);
            }
            Console.Error.WriteLine($"wrote {outPath} ({new FileInfo(outPath).Length} bytes, {ModelFiles.Name(p)})");
            if (parse.GetValue(json))
            {
                JsonOutput.Print(new Dictionary<string, object?> { ["model"] = path, ["out"] = outPath, ["precision"] = ModelFiles.Name(p), ["calibration_images"] = calib.Count });
            }
            return 0;
        });
        return cmd;
    }
}
