namespace QnnLab.Nano;

/// <summary>
/// Status codes of the device core (<c>qnn_status</c> in firmware/core/include/qnn/qnn.h, same values),
/// plus the protocol-engine code the interop adds. Natives that return a count or a label return the
/// negated code on failure; the others return the code itself (0 = success).
/// </summary>
public static class QnnStatus
{
    /// <summary>QNN_OK: ok.</summary>
    public const int Ok = 0;

    /// <summary>QNN_E_NULL: null pointer.</summary>
    public const int Null = 1;

    /// <summary>QNN_E_TRUNCATED: blob truncated.</summary>
    public const int Truncated = 2;

    /// <summary>QNN_E_MAGIC: bad blob magic.</summary>
    public const int BadMagic = 3;

    /// <summary>QNN_E_VERSION: unsupported blob version.</summary>
    public const int BadVersion = 4;

    /// <summary>QNN_E_CHECKSUM: blob checksum mismatch.</summary>
    public const int BadChecksum = 5;

    /// <summary>QNN_E_ALIGNMENT: blob misaligned.</summary>
    public const int BadAlignment = 6;

    /// <summary>QNN_E_BOUNDS: offset out of bounds.</summary>
    public const int OutOfBounds = 7;

    /// <summary>QNN_E_TENSOR: bad tensor.</summary>
    public const int BadTensor = 8;

    /// <summary>QNN_E_OP: bad or unsupported operator.</summary>
    public const int BadOperator = 9;

    /// <summary>QNN_E_SHAPE: bad shape.</summary>
    public const int BadShape = 10;

    /// <summary>QNN_E_PARAM: bad parameter.</summary>
    public const int BadParameter = 11;

    /// <summary>QNN_E_GRAPH: bad graph.</summary>
    public const int BadGraph = 12;

    /// <summary>QNN_E_ARENA: arena error.</summary>
    public const int ArenaError = 13;

    /// <summary>QNN_E_ARENA_TOO_SMALL: tensor arena too small.</summary>
    public const int ArenaTooSmall = 14;

    /// <summary>QNN_E_INPUT: input size does not match the model.</summary>
    public const int BadInput = 15;

    /// <summary>QNN_E_SQUEEZE: bad squeeze configuration.</summary>
    public const int BadSqueeze = 16;

    /// <summary>QNN_E_NOT_LOADED: no model loaded.</summary>
    public const int NotLoaded = 17;

    /// <summary>QNN_E_BACKEND: kernel backend error.</summary>
    public const int BackendError = 18;

    /// <summary>QNN_E_LIMIT: a compile-time limit is exceeded.</summary>
    public const int LimitExceeded = 19;

    /// <summary>The protocol engine rejected a call (interop-level code, outside the core's range).</summary>
    public const int ProtocolError = 100;

    /// <summary>Short English name of a status code, for exception messages and logs.</summary>
    /// <param name="status">A status code (positive form).</param>
    /// <returns>The description, or "status N" for a code this version does not know.</returns>
    public static string Describe(int status)
    {
        switch (status)
        {
            case Ok: return "ok";
            case Null: return "null pointer";
            case Truncated: return "blob truncated";
            case BadMagic: return "bad blob magic";
            case BadVersion: return "unsupported blob version";
            case BadChecksum: return "blob checksum mismatch";
            case BadAlignment: return "blob misaligned";
            case OutOfBounds: return "offset out of bounds";
            case BadTensor: return "bad tensor";
            case BadOperator: return "bad or unsupported operator";
            case BadShape: return "bad shape";
            case BadParameter: return "bad parameter";
            case BadGraph: return "bad graph";
            case ArenaError: return "arena error";
            case ArenaTooSmall: return "tensor arena too small";
            case BadInput: return "input size does not match the model";
            case BadSqueeze: return "bad squeeze configuration";
            case NotLoaded: return "no model loaded";
            case BackendError: return "kernel backend error";
            case LimitExceeded: return "a compile-time limit is exceeded";
            case ProtocolError: return "protocol engine error";
            default: return "status " + status.ToString();
        }
    }
}
