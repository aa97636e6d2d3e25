# Included at the end of nf-interpreter's targets/posix/nanoCLR/CMakeLists.txt by check.sh: compiles the
# QnnLab.Nano interop (the repo's natives, the MetadataProcessor's lookup table), the port, the device core
# and the protocol engine into a static library linked into the posix nanoCLR. QNN_FW and QNN_INTEROP are
# set by check.sh; the library's flags do not touch the CLR's own files (no full rebuild).
file(GLOB QNN_CORE_C ${QNN_FW}/core/src/*.c)
list(FILTER QNN_CORE_C EXCLUDE REGEX "/kernels_cmsis_nn\\.c$")
file(GLOB QNN_PROTO_C ${QNN_FW}/protocol/src/*.c)
add_library(qnn_nano_interop STATIC
    ${QNN_INTEROP}/QnnLab_Nano.cpp
    ${QNN_INTEROP}/QnnLab_Nano_QnnLab_Nano_QnnDevice.cpp
    ${QNN_INTEROP}/qnn_nano_port.c
    ${QNN_INTEROP}/qnn_nano_posix_board.c
    ${QNN_CORE_C} ${QNN_PROTO_C} ${QNN_FW}/protocol/core/qnn_core_device.c)
set_target_properties(qnn_nano_interop PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 11 CXX_STANDARD 20)
target_include_directories(qnn_nano_interop PRIVATE
    $<TARGET_PROPERTY:nanoFramework.nanoCLR,INCLUDE_DIRECTORIES>
    ${QNN_INTEROP} ${QNN_FW}/core/include ${QNN_FW}/protocol/include ${QNN_FW}/protocol/core)
target_compile_definitions(qnn_nano_interop PRIVATE $<TARGET_PROPERTY:nanoFramework.nanoCLR,COMPILE_DEFINITIONS>)
target_link_libraries(nanoFramework.nanoCLR PRIVATE qnn_nano_interop)
