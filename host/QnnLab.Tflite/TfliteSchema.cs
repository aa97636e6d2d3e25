namespace QnnLab.Tflite;

/// <summary>
/// The numbers of the TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs, version 3) that
/// the reader and writer use: field slots (vtable indices), enum values and union type indices.
/// Written by hand from the schema; only what our operators need.
/// </summary>
internal static class TfliteSchema
{
    public const string FileIdentifier = "TFL3";
    public const uint SchemaVersion = 3;

    // BuiltinOperator codes for the operators we map.
    public const int OpAdd = 0;
    public const int OpAveragePool2D = 1;
    public const int OpConv2D = 3;
    public const int OpDepthwiseConv2D = 4;
    public const int OpDequantize = 6;
    public const int OpFullyConnected = 9;
    public const int OpMaxPool2D = 17;
    public const int OpReshape = 22;
    public const int OpSoftmax = 25;
    public const int OpCustom = 32;
    public const int OpPad = 34;
    public const int OpMean = 40;
    public const int OpQuantize = 114;

    /// <summary>Codes above this live only in OperatorCode.builtin_code (deprecated_builtin_code holds this value).</summary>
    public const int OpPlaceholderForGreaterOpCodes = 127;

    // TensorType values.
    public const sbyte TypeFloat32 = 0;
    public const sbyte TypeInt32 = 2;
    public const sbyte TypeUInt8 = 3;
    public const sbyte TypeInt64 = 4;
    public const sbyte TypeInt16 = 7;
    public const sbyte TypeInt8 = 9;

    // BuiltinOptions union type indices (0 = NONE).
    public const byte OptConv2D = 1;
    public const byte OptDepthwiseConv2D = 2;
    public const byte OptPool2D = 5;
    public const byte OptFullyConnected = 8;
    public const byte OptSoftmax = 9;
    public const byte OptAdd = 11;
    public const byte OptReshape = 17;
    public const byte OptPad = 22;
    public const byte OptReducer = 27;
    public const byte OptDequantize = 38;
    public const byte OptQuantize = 89;

    // Field slots (0-based field ids) of each table; FieldCount is how many slots the writer emits.
    public static class Model
    {
        public const int Version = 0, OperatorCodes = 1, Subgraphs = 2, Description = 3, Buffers = 4, MetadataBuffer = 5, Metadata = 6, SignatureDefs = 7;
        public const int FieldCount = 8;
    }

    public static class OperatorCode
    {
        public const int DeprecatedBuiltinCode = 0, CustomCode = 1, Version = 2, BuiltinCode = 3;
        public const int FieldCount = 4;
    }

    public static class SubGraph
    {
        public const int Tensors = 0, Inputs = 1, Outputs = 2, Operators = 3, Name = 4;
        public const int FieldCount = 5;
    }

    public static class Tensor
    {
        public const int Shape = 0, Type = 1, Buffer = 2, Name = 3, Quantization = 4, IsVariable = 5, Sparsity = 6, ShapeSignature = 7, HasRank = 8;
        public const int FieldCount = 5;
    }

    public static class Quantization
    {
        public const int Min = 0, Max = 1, Scale = 2, ZeroPoint = 3, DetailsType = 4, Details = 5, QuantizedDimension = 6;
        public const int FieldCount = 7;
    }

    public static class Operator
    {
        // builtin_options is a union: slot 3 is its type byte, slot 4 its table.
        public const int OpcodeIndex = 0, Inputs = 1, Outputs = 2, BuiltinOptionsType = 3, BuiltinOptions = 4, CustomOptions = 5;
        public const int CustomOptionsFormat = 6, MutatingVariableInputs = 7, Intermediates = 8;
        public const int LargeCustomOptionsOffset = 9, LargeCustomOptionsSize = 10, BuiltinOptions2Type = 11, BuiltinOptions2 = 12;
        public const int FieldCount = 5;
    }

    public static class Buffer
    {
        public const int Data = 0, Offset = 1, Size = 2;
        public const int FieldCount = 1;
    }

    public static class Conv2DOptions
    {
        public const int Padding = 0, StrideW = 1, StrideH = 2, Activation = 3, DilationW = 4, DilationH = 5, QuantizedBiasType = 6;
        public const int FieldCount = 6;
    }

    public static class DepthwiseOptions
    {
        public const int Padding = 0, StrideW = 1, StrideH = 2, DepthMultiplier = 3, Activation = 4, DilationW = 5, DilationH = 6;
        public const int FieldCount = 7;
    }

    public static class Pool2DOptions
    {
        public const int Padding = 0, StrideW = 1, StrideH = 2, FilterWidth = 3, FilterHeight = 4, Activation = 5;
        public const int FieldCount = 6;
    }

    public static class FullyConnectedOptions
    {
        public const int Activation = 0, WeightsFormat = 1, KeepNumDims = 2, AsymmetricQuantizeInputs = 3, QuantizedBiasType = 4;
        public const int FieldCount = 3;
    }

    public static class SoftmaxOptions
    {
        public const int Beta = 0;
        public const int FieldCount = 1;
    }

    public static class AddOptions
    {
        public const int Activation = 0, PotScaleInt16 = 1;
        public const int FieldCount = 2;
    }

    public static class ReshapeOptions
    {
        public const int NewShape = 0;
        public const int FieldCount = 1;
    }

    public static class ReducerOptions
    {
        public const int KeepDims = 0;
        public const int FieldCount = 1;
    }

    /// <summary>BuiltinOperator names, indexed by code (schema order), for error messages and summaries.</summary>
    private static readonly string[] OperatorNames =
    [
        "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
        "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
        "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
        "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
        "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
        "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
        "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
        "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
        "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE",
        "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
        "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT",
        "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL",
        "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
        "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU",
        "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
        "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
        "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D",
        "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE",
        "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS",
        "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE",
        "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2",
        "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
    ];

    public static string OperatorName(int code)
        => code >= 0 && code < OperatorNames.Length ? OperatorNames[code] : $"BUILTIN_OPERATOR_{code}";

    private static readonly string[] TensorTypeNames =
    [
        "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64", "INT8", "FLOAT64",
        "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4",
    ];

    public static string TensorTypeName(int code)
        => code >= 0 && code < TensorTypeNames.Length ? TensorTypeNames[code] : $"TENSOR_TYPE_{code}";
}
