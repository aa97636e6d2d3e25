# CMSIS-NN for the cmsis-nn kernel backend: from -DQNN_CMSIS_NN_DIR=<checkout>, or fetched at the pinned
# commit with -DQNN_FETCH_CMSIS_NN=ON (needs network). Its sources are never part of this repository.
set(QNN_CMSIS_NN_COMMIT 99f736a63036613032f9b70de36b493bcd7802d4)
set(QNN_HAVE_CMSIS_NN OFF)

if(NOT QNN_CMSIS_NN_DIR AND QNN_FETCH_CMSIS_NN)
  include(FetchContent)
  FetchContent_Declare(cmsis_nn_src
    GIT_REPOSITORY https://github.com/ARM-software/CMSIS-NN.git
    GIT_TAG ${QNN_CMSIS_NN_COMMIT})
  FetchContent_GetProperties(cmsis_nn_src)
  if(NOT cmsis_nn_src_POPULATED)
    FetchContent_Populate(cmsis_nn_src)
  endif()
  set(QNN_CMSIS_NN_DIR ${cmsis_nn_src_SOURCE_DIR})
endif()

if(QNN_CMSIS_NN_DIR)
  if(NOT EXISTS ${QNN_CMSIS_NN_DIR}/Include/arm_nnfunctions.h)
    message(FATAL_ERROR "QNN_CMSIS_NN_DIR=${QNN_CMSIS_NN_DIR} has no Include/arm_nnfunctions.h")
  endif()
  file(GLOB_RECURSE _cmsis_sources ${QNN_CMSIS_NN_DIR}/Source/*.c)
  # Only the integer kernels we call (and their helpers); float sources need more headers.
  list(FILTER _cmsis_sources EXCLUDE REGEX "_f16|_f32|LSTM|lstm|SVDF|svdf|transpose|Transpose")
  add_library(cmsis_nn STATIC ${_cmsis_sources})
  target_include_directories(cmsis_nn PUBLIC ${QNN_CMSIS_NN_DIR}/Include)
  # Upstream code, upstream warnings: not ours to -Werror. Double rounding (TFLM) is its default.
  # Not sanitized: it also goes into the shared library that a .NET process loads.
  set_property(TARGET cmsis_nn PROPERTY COMPILE_OPTIONS -w -O2)
  set_property(TARGET cmsis_nn PROPERTY POSITION_INDEPENDENT_CODE ON)
  set(QNN_HAVE_CMSIS_NN ON)
  message(STATUS "qnn: kernel backend cmsis-nn from ${QNN_CMSIS_NN_DIR}")
else()
  message(STATUS "qnn: CMSIS-NN not given (QNN_CMSIS_NN_DIR / QNN_FETCH_CMSIS_NN): using the portable kernel backend")
endif()
