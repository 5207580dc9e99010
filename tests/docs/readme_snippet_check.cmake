# Fails unless the C++ block between README's "<!-- quickstart: begin" and "<!-- quickstart: end"
# lines is, byte for byte, examples/quickstart/quickstart.cpp (the program the tests build and
# run), so the README shows a program that compiles.
#   cmake -DREADME=README.md -DSOURCE=examples/quickstart/quickstart.cpp -P readme_snippet_check.cmake
cmake_minimum_required(VERSION 3.21)
file(READ ${README} readme)
file(READ ${SOURCE} source)
string(FIND "${readme}" "<!-- quickstart: begin" begin)
string(FIND "${readme}" "<!-- quickstart: end" end)
if(begin EQUAL -1 OR end EQUAL -1 OR end LESS begin)
  message(FATAL_ERROR "${README}: no '<!-- quickstart: begin' ... '<!-- quickstart: end' markers")
endif()
math(EXPR length "${end} - ${begin}")
string(SUBSTRING "${readme}" ${begin} ${length} block)
# The block: the begin marker's line, "```cpp", the program, "```".
string(FIND "${block}" "\n```cpp\n" open)
string(FIND "${block}" "\n```\n" close REVERSE)
if(open EQUAL -1 OR close EQUAL -1 OR close LESS open)
  message(FATAL_ERROR "${README}: the quickstart markers hold no ```cpp block")
endif()
math(EXPR from "${open} + 8")
math(EXPR length "${close} + 1 - ${from}")
string(SUBSTRING "${block}" ${from} ${length} snippet)
if(NOT snippet STREQUAL source)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/readme_quickstart.cpp "${snippet}")
  message(FATAL_ERROR "README's quickstart differs from ${SOURCE}; the README's copy is in "
                      "${CMAKE_CURRENT_BINARY_DIR}/readme_quickstart.cpp (diff them)")
endif()
message(STATUS "README's quickstart is ${SOURCE}")
