//
// Native methods of QnnLab.Nano.QnnDevice. Each one only unpacks its managed arguments, calls the C
// port (qnn_nano_port.h) and returns its int status; the C# wrappers turn statuses into exceptions.
// A null array is the only thing refused here (as a NullReferenceException, nanoCLR's usual way).
//

#include "QnnLab_Nano.h"
#include "qnn_nano_port.h"

typedef Library_QnnLab_Nano_QnnLab_Nano_QnnDevice QnnDevice;

// Returns the array argument at index, or leaves with CLR_E_NULL_REFERENCE.
#define QNN_ARRAY_ARG(var, index)                                  \
    CLR_RT_HeapBlock_Array *var = stack.Arg##index().DereferenceArray(); \
    FAULT_ON_NULL(var)

HRESULT QnnDevice::NativeInitialize___STATIC__I4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    stack.SetResult_I4(qnn_nano_init());
    NANOCLR_NOCLEANUP_NOLABEL();
}

HRESULT QnnDevice::NativeLoadModel___STATIC__I4__SZARRAY_U1__I4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    {
        QNN_ARRAY_ARG(blob, 0);
        int32_t length = stack.Arg1().NumericByRef().s4;
        if (length < 0 || (uint32_t)length > blob->m_numOfElements)
        {
            NANOCLR_SET_AND_LEAVE(CLR_E_OUT_OF_RANGE);
        }
        stack.SetResult_I4(qnn_nano_load_model(blob->GetFirstElement(), (uint32_t)length));
    }
    NANOCLR_NOCLEANUP();
}

HRESULT QnnDevice::NativeSelectModelAt___STATIC__I4__U4__I4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    uint32_t address = stack.Arg0().NumericByRef().u4;
    int32_t length = stack.Arg1().NumericByRef().s4;
    stack.SetResult_I4(length <= 0 ? QNN_DEV_ERR_BAD_ARGUMENT : qnn_nano_select_model_at(address, (uint32_t)length));
    NANOCLR_NOCLEANUP_NOLABEL();
}

HRESULT QnnDevice::NativeGetModelInfo___STATIC__I4__SZARRAY_I4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    {
        QNN_ARRAY_ARG(fields, 0);
        stack.SetResult_I4(qnn_nano_model_info((int32_t *)fields->GetFirstElement(), fields->m_numOfElements));
    }
    NANOCLR_NOCLEANUP();
}

HRESULT QnnDevice::NativeInfer___STATIC__I4__SZARRAY_U1__I4__SZARRAY_I4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    {
        QNN_ARRAY_ARG(pixels, 0);
        int32_t count = stack.Arg1().NumericByRef().s4;
        QNN_ARRAY_ARG(logits, 2);
        if (count < 0 || (uint32_t)count > pixels->m_numOfElements)
        {
            NANOCLR_SET_AND_LEAVE(CLR_E_OUT_OF_RANGE);
        }
        // No managed allocation happens during the call, so the arrays cannot move under the core.
        stack.SetResult_I4(qnn_nano_infer(
            pixels->GetFirstElement(),
            (uint32_t)count,
            (int32_t *)logits->GetFirstElement(),
            logits->m_numOfElements));
    }
    NANOCLR_NOCLEANUP();
}

HRESULT QnnDevice::NativeConfigureSqueezing___STATIC__I4__I4__I4__R4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    int32_t bit_depth = stack.Arg0().NumericByRef().s4;
    int32_t median_size = stack.Arg1().NumericByRef().s4;
    float threshold = stack.Arg2().NumericByRef().r4;
    stack.SetResult_I4(qnn_nano_configure_squeezing(bit_depth, median_size, threshold));
    NANOCLR_NOCLEANUP_NOLABEL();
}

HRESULT QnnDevice::NativeLastDetectorScore___STATIC__R4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    stack.SetResult_R4(qnn_nano_last_detector_score());
    NANOCLR_NOCLEANUP_NOLABEL();
}

HRESULT QnnDevice::NativeCycleCounter___STATIC__U4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    stack.SetResult_U4(qnn_nano_cycles());
    NANOCLR_NOCLEANUP_NOLABEL();
}

HRESULT QnnDevice::NativeReadStageCycles___STATIC__I4__SZARRAY_U4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    {
        QNN_ARRAY_ARG(cycles, 0);
        stack.SetResult_I4(qnn_nano_stage_cycles((uint32_t *)cycles->GetFirstElement(), cycles->m_numOfElements));
    }
    NANOCLR_NOCLEANUP();
}

HRESULT QnnDevice::NativeProtocolFeed___STATIC__I4__SZARRAY_U1__I4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    {
        QNN_ARRAY_ARG(rx, 0);
        int32_t count = stack.Arg1().NumericByRef().s4;
        if (count < 0 || (uint32_t)count > rx->m_numOfElements)
        {
            NANOCLR_SET_AND_LEAVE(CLR_E_OUT_OF_RANGE);
        }
        stack.SetResult_I4(qnn_nano_protocol_feed(rx->GetFirstElement(), (uint32_t)count));
    }
    NANOCLR_NOCLEANUP();
}

HRESULT QnnDevice::NativeProtocolPoll___STATIC__I4__SZARRAY_U1(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    {
        QNN_ARRAY_ARG(tx, 0);
        stack.SetResult_I4(qnn_nano_protocol_poll(tx->GetFirstElement(), tx->m_numOfElements));
    }
    NANOCLR_NOCLEANUP();
}
