//
// Native declarations of the QnnLab.Nano interop assembly, in the layout nanoFramework's
// MetadataProcessor generates for it (Library_<assembly>_<namespace>_<class>, one NANOCLR_NATIVE_DECLARE
// per extern method, named <Method>___STATIC__<return>__<args>). tools/nanoframework/build-nanoclr.sh
// regenerates the skeleton from QnnLab.Nano.dll and fails if these names differ from the generated ones;
// host/tests/QnnLab.NanoApp.Tests (InteropContractTests) checks them against the C# externs on every CI run.
//

#ifndef QNNLAB_NANO_H
#define QNNLAB_NANO_H

#include <nanoCLR_Interop.h>
#include <nanoCLR_Runtime.h>
#include <nanoPackStruct.h>

struct Library_QnnLab_Nano_QnnLab_Nano_QnnDevice
{
    NANOCLR_NATIVE_DECLARE(NativeInitialize___STATIC__I4);
    NANOCLR_NATIVE_DECLARE(NativeLoadModel___STATIC__I4__SZARRAY_U1__I4);
    NANOCLR_NATIVE_DECLARE(NativeSelectModelAt___STATIC__I4__U4__I4);
    NANOCLR_NATIVE_DECLARE(NativeGetModelInfo___STATIC__I4__SZARRAY_I4);
    NANOCLR_NATIVE_DECLARE(NativeInfer___STATIC__I4__SZARRAY_U1__I4__SZARRAY_I4);
    NANOCLR_NATIVE_DECLARE(NativeConfigureSqueezing___STATIC__I4__I4__I4__R4);
    NANOCLR_NATIVE_DECLARE(NativeLastDetectorScore___STATIC__R4);
    NANOCLR_NATIVE_DECLARE(NativeCycleCounter___STATIC__U4);
    NANOCLR_NATIVE_DECLARE(NativeReadStageCycles___STATIC__I4__SZARRAY_U4);
    NANOCLR_NATIVE_DECLARE(NativeProtocolFeed___STATIC__I4__SZARRAY_U1__I4);
    NANOCLR_NATIVE_DECLARE(NativeProtocolPoll___STATIC__I4__SZARRAY_U1);

    //--//
};

extern const CLR_RT_NativeAssemblyData g_CLR_AssemblyNative_QnnLab_Nano;

#endif // QNNLAB_NANO_H
