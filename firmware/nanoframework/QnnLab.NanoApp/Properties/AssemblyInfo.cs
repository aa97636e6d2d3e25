using System.Reflection;

[assembly: AssemblyTitle("QnnLab.NanoApp")]
[assembly: AssemblyDescription("nanoFramework serial shell of the QNN device core.")]
[assembly: AssemblyProduct("QNN Edge Lab")]
[assembly: AssemblyVersion("1.0.0.0")]
[assembly: AssemblyFileVersion("1.0.0.0")]
