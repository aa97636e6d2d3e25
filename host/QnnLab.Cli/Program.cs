using System.CommandLine;
using QnnLab.Cli;

// qnnlab: the host CLI. Each sub-command lives in its own file under Commands/.
var root = new RootCommand("QNN Edge Lab: quantized networks, adversarial attacks and on-device checks");
foreach (Command c in CommandCatalog.All())
{
    root.Subcommands.Add(c);
}
return await CliRunner.RunAsync(root, args);
