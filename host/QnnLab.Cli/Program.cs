using QnnLab.Cli;

// qnnlab: the host CLI. Each sub-command lives in its own file under Commands/.
return await CliRunner.RunAsync(QnnLabApp.BuildRoot(), args);
