namespace QnnLab.Nano;

/// <summary>
/// Status codes the natives return: 0 or a non-negative value on success, a negative code on failure.
/// The device codes are the executor's (<c>QNN_DEV_*</c> in firmware/protocol/include/qnn_device_api.h,
/// same values); the interop adds its own below -100. The device core's own failures (e.g. a blob that does not
/// validate) arrive as <c>-1000 - qnn_status</c> (firmware/protocol/core/qnn_core_device.c). Keep
/// interop/qnn_nano_port.h in step.
/// </summary>
public static class QnnStatus
{
    /// <summary>QNN_DEV_OK: success.</summary>
    public const int Ok = 0;

    /// <summary>QNN_DEV_ERR_NO_MODEL: no model is selected.</summary>
    public const int NoModel = -1;

    /// <summary>QNN_DEV_ERR_UNKNOWN_MODEL: the device holds no model with that hash (e.g. nothing valid at the flash address).</summary>
    public const int UnknownModel = -2;

    /// <summary>QNN_DEV_ERR_INPUT_SIZE: the input's size does not match the model.</summary>
    public const int InputSize = -3;

    /// <summary>QNN_DEV_ERR_NOT_SUPPORTED: the board or executor lacks the feature (e.g. no upload storage).</summary>
    public const int NotSupported = -4;

    /// <summary>QNN_DEV_ERR_NO_SPACE: the blob does not fit the device's storage.</summary>
    public const int NoSpace = -5;

    /// <summary>QNN_DEV_ERR_BAD_ARGUMENT: an argument was refused by the executor.</summary>
    public const int BadArgument = -6;

    /// <summary>Codes at or below this are the device core's: <c>CoreBase - qnn_status</c>.</summary>
    public const int CoreBase = -1000;

    /// <summary>Interop: <see cref="QnnDevice.Initialize"/> has not run yet.</summary>
    public const int NotInitialized = -101;

    /// <summary>Interop: a buffer is too small for what the call must write.</summary>
    public const int BufferTooSmall = -102;

    /// <summary>Short English name of a status code, for exception messages and logs.</summary>
    /// <param name="status">A status code returned by a native.</param>
    /// <returns>The description; "device core status N" for the core's own codes, "executor error N" for a code this version does not know.</returns>
    public static string Describe(int status)
    {
        switch (status)
        {
            case Ok: return "ok";
            case NoModel: return "no model selected";
            case UnknownModel: return "unknown model";
            case InputSize: return "input size does not match the model";
            case NotSupported: return "not supported by this board";
            case NoSpace: return "blob does not fit";
            case BadArgument: return "bad argument";
            case NotInitialized: return "device core not initialized";
            case BufferTooSmall: return "buffer too small";
            default:
                if (status <= CoreBase)
                {
                    return "device core status " + (CoreBase - status).ToString();
                }
                return "executor error " + status.ToString();
        }
    }
}
