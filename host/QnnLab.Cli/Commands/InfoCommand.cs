using System.CommandLine;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.Tflite;

namespace QnnLab.Cli;

/// <summary>`qnnlab info`: what a model file holds.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        Option<string> model = CommonOptions.Model();
        var cmd = new Command("info", "Show a model's operators, tensors, quantization and size") { model };
        cmd.SetAction(parse =>
        {
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!);
            QnnModel m = ModelFiles.Load(path);
            Console.WriteLine($"{path}: {ModelFiles.Name(m.Precision)}, input {m.InputTensor}, output {m.OutputTensor}, {m.Preprocessing.Description}");
            Console.WriteLine($"sha256 {ModelFiles.Sha256(path)}");
            Console.WriteLine(ModelSummary.Of(m).ToString());
            return 0;
        });
        return cmd;
    }
}
