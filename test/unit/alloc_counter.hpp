#pragma once
// Counts C++ heap allocations in a test binary that links alloc_counter.cpp,
// which replaces the global operator new: a test sets g_counting, runs the
// code that must not allocate, and checks g_news.

namespace sg::test {

extern bool g_counting;
extern unsigned long g_news;

} // namespace sg::test
