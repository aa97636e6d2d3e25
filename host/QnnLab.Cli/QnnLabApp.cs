using System.CommandLine;

namespace QnnLab.Cli;

/// <summary>The qnnlab command tree, built in one place so tests run exactly what the executable runs.</summary>
public static class QnnLabApp
{
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("QNN Edge Lab: quantized networks, adversarial attacks and on-device checks");
        foreach (Command c in CommandCatalog.All())
        {
            root.Subcommands.Add(c);
        }
        return root;
    }
}
