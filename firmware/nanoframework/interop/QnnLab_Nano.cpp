//
// Method lookup table and assembly record of the QnnLab.Nano interop.
//
// >>> PLACEHOLDER: the build replaces this file. <<<
// nanoCLR binds the table by position (one entry per method of the assembly, in the
// MetadataProcessor's order, NULL for managed methods) and refuses the assembly unless the checksum
// equals the CRC32 the MetadataProcessor computes over the native method signatures. Neither can be
// produced here (no MetadataProcessor on this machine), so tools/nanoframework/build-nanoclr.sh runs
// the MetadataProcessor on QnnLab.Nano.dll and copies its generated QnnLab_Nano.cpp over this one.
// The natives' own order below is only a readable listing of what the table must contain.
//

#include "QnnLab_Nano.h"

// clang-format off

static const CLR_RT_MethodHandler method_lookup[] =
{
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
};

const CLR_RT_NativeAssemblyData g_CLR_AssemblyNative_QnnLab_Nano =
{
    "QnnLab.Nano",
    0x00000000, // QNN_NANO_CHECKSUM_PLACEHOLDER: replaced by the MetadataProcessor's "Native declaration checksum"
    method_lookup,
    { 1, 0, 0, 0 } // must equal [assembly: AssemblyNativeVersion("1.0.0.0")]
};

// clang-format on
