#
# nf-interpreter module for the QnnLab.Nano interop assembly: found through NF_INTEROP_ASSEMBLIES
# ("QnnLab.Nano") once tools/nanoframework/build-nanoclr.sh has copied this folder to
# <nf-interpreter>/InteropAssemblies/QnnLab.Nano and this file to <nf-interpreter>/CMake/Modules.
# Besides the interop's own files it compiles the QNN device core (QNN_FIRMWARE_DIR = this repo's
# firmware/), whose protocol engine and executor do all the work.
#

set(BASE_PATH_FOR_THIS_MODULE ${PROJECT_SOURCE_DIR}/InteropAssemblies/QnnLab.Nano)

if(NOT QNN_FIRMWARE_DIR)
    message(FATAL_ERROR "QnnLab.Nano interop: set QNN_FIRMWARE_DIR to the QNN Edge Lab firmware/ folder")
endif()

list(APPEND QnnLab.Nano_INCLUDE_DIRS ${PROJECT_SOURCE_DIR}/src/CLR/Core)
list(APPEND QnnLab.Nano_INCLUDE_DIRS ${PROJECT_SOURCE_DIR}/src/CLR/Include)
list(APPEND QnnLab.Nano_INCLUDE_DIRS ${PROJECT_SOURCE_DIR}/src/HAL/Include)
list(APPEND QnnLab.Nano_INCLUDE_DIRS ${PROJECT_SOURCE_DIR}/src/PAL/Include)
list(APPEND QnnLab.Nano_INCLUDE_DIRS ${BASE_PATH_FOR_THIS_MODULE})
list(APPEND QnnLab.Nano_INCLUDE_DIRS ${QNN_FIRMWARE_DIR}/core/include)
list(APPEND QnnLab.Nano_INCLUDE_DIRS ${QNN_FIRMWARE_DIR}/protocol/include)
list(APPEND QnnLab.Nano_INCLUDE_DIRS ${QNN_FIRMWARE_DIR}/protocol/core)

set(QnnLab.Nano_SOURCES
    ${BASE_PATH_FOR_THIS_MODULE}/QnnLab_Nano.cpp
    ${BASE_PATH_FOR_THIS_MODULE}/QnnLab_Nano_QnnLab_Nano_QnnDevice.cpp
    ${BASE_PATH_FOR_THIS_MODULE}/qnn_nano_port.c
    ${BASE_PATH_FOR_THIS_MODULE}/qnn_nano_board.c
)

# The device core, the protocol engine and the core's executor adapter, compiled into the nanoCLR image
# (C11 sources, no malloc). Left out: platform_posix.c (the board gives qnn_platform_cycles from the DWT)
# and kernels_cmsis_nn.c (needs a CMSIS-NN checkout; the portable kernels are used).
file(GLOB QNN_CORE_SOURCES ${QNN_FIRMWARE_DIR}/core/src/*.c)
list(FILTER QNN_CORE_SOURCES EXCLUDE REGEX "/(platform_posix|kernels_cmsis_nn)\\.c$")
file(GLOB QNN_PROTOCOL_SOURCES ${QNN_FIRMWARE_DIR}/protocol/src/*.c)
list(APPEND QnnLab.Nano_SOURCES ${QNN_CORE_SOURCES} ${QNN_PROTOCOL_SOURCES} ${QNN_FIRMWARE_DIR}/protocol/core/qnn_core_device.c)

include(FindPackageHandleStandardArgs)
FIND_PACKAGE_HANDLE_STANDARD_ARGS(QnnLab.Nano DEFAULT_MSG QnnLab.Nano_INCLUDE_DIRS QnnLab.Nano_SOURCES)
