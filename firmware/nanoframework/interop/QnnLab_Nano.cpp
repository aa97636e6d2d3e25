//
// Lookup table and native checksum of the QnnLab.Nano interop assembly, as nanoFramework's MetadataProcessor
// generated them from QnnLab.Nano.dll (metadata-processor 4541b46 built on .NET 10; see
// firmware/nanoframework/README.md). One entry per method of the assembly, in metadata order, NULL where the
// method is managed; nanoCLR refuses the assembly when the checksum differs from the one the .pe carries
// ("Invalid native checksum"). tools/nanoframework/build-nanoclr.sh regenerates this file; InteropContractTests
// fails when the C# methods no longer match this table, i.e. when it must be regenerated.
//
#include "QnnLab_Nano.h"

// clang-format off

static const CLR_RT_MethodHandler method_lookup[] =
{
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeInitialize___STATIC__I4,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeLoadModel___STATIC__I4__SZARRAY_U1__I4,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeSelectModelAt___STATIC__I4__U4__I4,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeGetModelInfo___STATIC__I4__SZARRAY_I4,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeInfer___STATIC__I4__SZARRAY_U1__I4__SZARRAY_I4,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeConfigureSqueezing___STATIC__I4__I4__I4__R4,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeLastDetectorScore___STATIC__R4,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeCycleCounter___STATIC__U4,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeReadStageCycles___STATIC__I4__SZARRAY_U4,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeProtocolFeed___STATIC__I4__SZARRAY_U1__I4,
    Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::NativeProtocolPoll___STATIC__I4__SZARRAY_U1,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

const CLR_RT_NativeAssemblyData g_CLR_AssemblyNative_QnnLab_Nano =
{
    "QnnLab.Nano",
    0x42A2A466,
    method_lookup,
    { 1, 0, 0, 0 }
};

// clang-format on
