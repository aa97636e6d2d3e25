using System.Reflection;

// The assembly name (QnnLab.Nano) must differ from every class name in it: the skeleton the
// MetadataProcessor generates would otherwise declare a C++ struct that clashes with a namespace.
[assembly: AssemblyTitle("QnnLab.Nano")]
[assembly: AssemblyDescription("Managed face of the QNN device core for .NET nanoFramework (native interop).")]
[assembly: AssemblyProduct("QNN Edge Lab")]
[assembly: AssemblyVersion("1.0.0.0")]
[assembly: AssemblyFileVersion("1.0.0.0")]

// nanoCLR refuses to bind the interop when this differs from the version compiled into the
// native CLR_RT_NativeAssemblyData (firmware/nanoframework/interop/qnnlab_nano.cpp).
[assembly: AssemblyNativeVersion("1.0.0.0")]
