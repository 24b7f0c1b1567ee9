# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[utils/test_error]=] "/work/main/build/tests/test_error")
set_tests_properties([=[utils/test_error]=] PROPERTIES  ENVIRONMENT "COCE_SOURCE_DIR=/work/main;COCE_BINARY_DIR=/work/main/build;COCE_BIN=/work/main/build/coce" TIMEOUT "600" WORKING_DIRECTORY "/work/main/build/tests" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
