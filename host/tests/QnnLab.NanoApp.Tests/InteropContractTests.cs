using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using QnnLab.TestSupport;

namespace QnnLab.NanoApp.Tests;

/// <summary>
/// The C# externs of QnnLab.Nano, the native declarations and the C status codes must agree, or nanoCLR
/// binds the wrong function (or none) on the board, where nothing here can run. The names are derived
/// from the compiled QnnLab.Nano.dll with nanoFramework's naming rule (Method___STATIC__RET__ARGS, types
/// as I4, U4, R4, SZARRAY_U1...), independently of the hand-written C++.
/// </summary>
[TestClass]
public sealed partial class InteropContractTests
{
    private static readonly string InteropDir = Path.Combine(TestData.RepoRoot, "firmware", "nanoframework", "interop");

    private static string NanoDllPath()
    {
        // bin/<Configuration>/net10.0/ -> the same configuration of the nanoFramework library.
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        string path = Path.Combine(TestData.RepoRoot, "firmware", "nanoframework", "QnnLab.Nano", "bin", configuration, "netstandard2.0", "QnnLab.Nano.dll");
        Assert.IsTrue(File.Exists(path), $"QnnLab.Nano.dll not built at {path} (the test project references it for build order)");
        return path;
    }

    private sealed class NanoTypeNames : ISignatureTypeProvider<string, object?>
    {
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
        {
            PrimitiveTypeCode.Void => "VOID",
            PrimitiveTypeCode.Boolean => "BOOLEAN",
            PrimitiveTypeCode.SByte => "I1",
            PrimitiveTypeCode.Byte => "U1",
            PrimitiveTypeCode.Char => "CHAR",
            PrimitiveTypeCode.Int16 => "I2",
            PrimitiveTypeCode.UInt16 => "U2",
            PrimitiveTypeCode.Int32 => "I4",
            PrimitiveTypeCode.UInt32 => "U4",
            PrimitiveTypeCode.Int64 => "I8",
            PrimitiveTypeCode.UInt64 => "U8",
            PrimitiveTypeCode.Single => "R4",
            PrimitiveTypeCode.Double => "R8",
            PrimitiveTypeCode.String => "STRING",
            _ => throw new NotSupportedException($"no interop name for {typeCode}"),
        };

        public string GetSZArrayType(string elementType) => "SZARRAY_" + elementType;

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => throw new NotSupportedException("class-typed interop arguments are not used");

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => throw new NotSupportedException("class-typed interop arguments are not used");

        public string GetArrayType(string elementType, ArrayShape shape) => throw new NotSupportedException();

        public string GetByReferenceType(string elementType) => throw new NotSupportedException();

        public string GetFunctionPointerType(MethodSignature<string> signature) => throw new NotSupportedException();

        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => throw new NotSupportedException();

        public string GetGenericMethodParameter(object? genericContext, int index) => throw new NotSupportedException();

        public string GetGenericTypeParameter(object? genericContext, int index) => throw new NotSupportedException();

        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;

        public string GetPinnedType(string elementType) => elementType;

        public string GetPointerType(string elementType) => throw new NotSupportedException();

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) => throw new NotSupportedException();
    }

    private static (List<string> Natives, Dictionary<string, object> Constants) ReadAssembly()
    {
        using var pe = new PEReader(File.OpenRead(NanoDllPath()));
        MetadataReader md = pe.GetMetadataReader();
        var natives = new List<string>();
        var constants = new Dictionary<string, object>();
        foreach (TypeDefinitionHandle th in md.TypeDefinitions)
        {
            TypeDefinition type = md.GetTypeDefinition(th);
            string ns = md.GetString(type.Namespace);
            string name = md.GetString(type.Name);
            foreach (MethodDefinitionHandle mh in type.GetMethods())
            {
                MethodDefinition method = md.GetMethodDefinition(mh);
                if ((method.ImplAttributes & MethodImplAttributes.InternalCall) == 0)
                {
                    continue;
                }
                Assert.IsTrue((method.Attributes & MethodAttributes.Static) != 0, "interop methods are static");
                MethodSignature<string> sig = method.DecodeSignature(new NanoTypeNames(), null);
                string cls = $"{ns}_{name}".Replace('.', '_');
                natives.Add($"Library_QnnLab_Nano_{cls}::{md.GetString(method.Name)}___STATIC__{string.Join("__", sig.ParameterTypes.Prepend(sig.ReturnType))}");
            }
            foreach (FieldDefinitionHandle fh in type.GetFields())
            {
                FieldDefinition field = md.GetFieldDefinition(fh);
                if (!field.GetDefaultValue().IsNil)
                {
                    Constant c = md.GetConstant(field.GetDefaultValue());
                    BlobReader blob = md.GetBlobReader(c.Value);
                    constants[$"{name}.{md.GetString(field.Name)}"] = blob.ReadConstant(c.TypeCode)!;
                }
            }
        }
        return (natives, constants);
    }

    [GeneratedRegex(@"NANOCLR_NATIVE_DECLARE\((\w+)\)")]
    private static partial Regex Declaration();

    [GeneratedRegex(@"#define\s+(QNN_\w+)\s+\(?(-?\d+)u?\)?")]
    private static partial Regex CDefine();

    [TestMethod]
    public void TheNativeHeaderDeclaresExactlyTheCSharpExterns()
    {
        List<string> expected = ReadAssembly().Natives;
        Assert.HasCount(11, expected, "QnnDevice's extern methods");
        string header = File.ReadAllText(Path.Combine(InteropDir, "QnnLab_Nano.h"));
        string[] declared = [.. Declaration().Matches(header).Select(m => "Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::" + m.Groups[1].Value)];
        CollectionAssert.AreEquivalent(expected, declared);
    }

    [TestMethod]
    public void EveryExternHasANativeBodyAndALookupEntry()
    {
        string bodies = File.ReadAllText(Path.Combine(InteropDir, "QnnLab_Nano_QnnLab_Nano_QnnDevice.cpp"));
        string lookup = File.ReadAllText(Path.Combine(InteropDir, "QnnLab_Nano.cpp"));
        foreach (string native in ReadAssembly().Natives)
        {
            string method = native[(native.IndexOf("::", StringComparison.Ordinal) + 2)..];
            StringAssert.Contains(bodies, $"HRESULT QnnDevice::{method}(CLR_RT_StackFrame &stack)");
            StringAssert.Contains(lookup, native + ",");
        }
        StringAssert.Contains(lookup, "\"QnnLab.Nano\"");
    }

    [TestMethod]
    public void StatusStageAndFieldCountsMatchTheCHeaders()
    {
        Dictionary<string, object> cs = ReadAssembly().Constants;
        var c = new Dictionary<string, int>();
        foreach (string file in new[] { Path.Combine(InteropDir, "qnn_nano_port.h"), Path.Combine(TestData.RepoRoot, "firmware", "protocol", "include", "qnn_device_api.h") })
        {
            Assert.IsTrue(File.Exists(file), $"missing {file}");
            foreach (Match m in CDefine().Matches(File.ReadAllText(file)))
            {
                c[m.Groups[1].Value] = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        (string CSharp, string C)[] pairs =
        [
            ("QnnStatus.Ok", "QNN_DEV_OK"),
            ("QnnStatus.NoModel", "QNN_DEV_ERR_NO_MODEL"),
            ("QnnStatus.UnknownModel", "QNN_DEV_ERR_UNKNOWN_MODEL"),
            ("QnnStatus.InputSize", "QNN_DEV_ERR_INPUT_SIZE"),
            ("QnnStatus.NotSupported", "QNN_DEV_ERR_NOT_SUPPORTED"),
            ("QnnStatus.NoSpace", "QNN_DEV_ERR_NO_SPACE"),
            ("QnnStatus.BadArgument", "QNN_DEV_ERR_BAD_ARGUMENT"),
            ("QnnStatus.NotInitialized", "QNN_NANO_ERR_NOT_INITIALIZED"),
            ("QnnStatus.BufferTooSmall", "QNN_NANO_ERR_BUFFER_TOO_SMALL"),
            ("QnnStage.Quantize", "QNN_STAGE_QUANTIZE"),
            ("QnnStage.SqueezeBitDepth", "QNN_STAGE_SQUEEZE_BIT_DEPTH"),
            ("QnnStage.SqueezeMedian", "QNN_STAGE_SQUEEZE_MEDIAN"),
            ("QnnStage.Inference", "QNN_STAGE_INFERENCE"),
            ("QnnStage.InferenceBitDepth", "QNN_STAGE_INFERENCE_BIT_DEPTH"),
            ("QnnStage.InferenceMedian", "QNN_STAGE_INFERENCE_MEDIAN"),
            ("QnnStage.Compare", "QNN_STAGE_COMPARE"),
            ("QnnStage.Total", "QNN_STAGE_COUNT"),
            ("QnnModelInfo.FieldCount", "QNN_NANO_MODEL_FIELDS"),
        ];
        foreach ((string csName, string cName) in pairs)
        {
            Assert.IsTrue(cs.ContainsKey(csName), $"C# constant {csName} missing");
            Assert.IsTrue(c.ContainsKey(cName), $"C define {cName} missing");
            Assert.AreEqual(c[cName], (int)cs[csName], $"{csName} vs {cName}");
        }
        Assert.AreEqual(c["QNN_STAGE_COUNT"] + 1, (int)cs["QnnStage.Count"], "QnnStage.Count = the protocol's stages + the total");
    }

    [TestMethod]
    public void TheLookupTableHasOneEntryPerMethodInMetadataOrder()
    {
        // nanoCLR binds natives by position: entry i serves the assembly's i-th method (NULL for managed ones).
        // The committed table is the MetadataProcessor's; this derives the same layout from QnnLab.Nano.dll, so
        // a changed C# surface fails here until the table (and its checksum) are regenerated.
        using var pe = new PEReader(File.OpenRead(NanoDllPath()));
        MetadataReader md = pe.GetMetadataReader();
        var expected = new List<string>();
        foreach (MethodDefinitionHandle mh in md.MethodDefinitions)
        {
            MethodDefinition method = md.GetMethodDefinition(mh);
            TypeDefinition type = md.GetTypeDefinition(method.GetDeclaringType());
            if ((method.ImplAttributes & MethodImplAttributes.InternalCall) == 0)
            {
                expected.Add("NULL");
                continue;
            }
            MethodSignature<string> sig = method.DecodeSignature(new NanoTypeNames(), null);
            string cls = $"{md.GetString(type.Namespace)}_{md.GetString(type.Name)}".Replace('.', '_');
            expected.Add($"Library_QnnLab_Nano_{cls}::{md.GetString(method.Name)}___STATIC__{string.Join("__", sig.ParameterTypes.Prepend(sig.ReturnType))}");
        }
        string lookup = File.ReadAllText(Path.Combine(InteropDir, "QnnLab_Nano.cpp"));
        Match table = LookupTable().Match(lookup);
        Assert.IsTrue(table.Success, "no method_lookup table in QnnLab_Nano.cpp");
        string[] entries = [.. table.Groups[1].Value.Split(',').Select(e => e.Trim()).Where(e => e.Length > 0)];
        CollectionAssert.AreEqual(expected, entries);
        StringAssert.DoesNotMatch(lookup, ChecksumPlaceholder(), "the checksum must be the MetadataProcessor's, not a placeholder");
    }

    [GeneratedRegex(@"method_lookup\[\]\s*=\s*\{([^}]*)\}")]
    private static partial Regex LookupTable();

    [GeneratedRegex(@"""QnnLab\.Nano"",\s*0x0+,")]
    private static partial Regex ChecksumPlaceholder();

    [GeneratedRegex(@"return\s+(-\d+)\s*-\s*\(int\)s;")]
    private static partial Regex CoreStatusBase();

    [GeneratedRegex(@"median\s*&&\s*cfg->median_size\s*>\s*QNN_MEDIAN_MAX\b")]
    private static partial Regex CoreMedianLimit();

    [GeneratedRegex(@"#define\s+QNN_MEDIAN_MAX\s+(\d+)")]
    private static partial Regex MedianMaxDefine();

    [TestMethod]
    public void TheCoreAdaptersConventionsMatchTheLibrary()
    {
        // qnn_core_device.c (the executor behind the port) is code, not a header: read its literal conventions.
        Dictionary<string, object> cs = ReadAssembly().Constants;
        string adapter = File.ReadAllText(Path.Combine(TestData.RepoRoot, "firmware", "protocol", "core", "qnn_core_device.c"));
        Match baseMatch = CoreStatusBase().Match(adapter);
        Assert.IsTrue(baseMatch.Success, "qnn_core_device.c no longer maps core statuses as 'return N - (int)s;'");
        Assert.AreEqual(int.Parse(baseMatch.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), (int)cs["QnnStatus.CoreBase"]);
        Assert.IsTrue(CoreMedianLimit().IsMatch(adapter), "qnn_core_device.c no longer bounds median_size by QNN_MEDIAN_MAX");
        string squeezeHeader = File.ReadAllText(Path.Combine(TestData.RepoRoot, "firmware", "core", "include", "qnn", "qnn_squeeze.h"));
        Match median = MedianMaxDefine().Match(squeezeHeader);
        Assert.IsTrue(median.Success, "qnn_squeeze.h no longer defines QNN_MEDIAN_MAX");
        Assert.AreEqual(int.Parse(median.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), (int)cs["QnnDevice.MaxMedianSize"]);
    }
}
