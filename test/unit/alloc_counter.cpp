#include "alloc_counter.hpp"

#include <cstdlib>
#include <new>

namespace sg::test {

bool g_counting = false;
unsigned long g_news = 0;

} // namespace sg::test

using sg::test::g_counting;
using sg::test::g_news;

// Every non-aligned form is replaced, so that allocations and frees always
// pair up (ASan checks that); the aligned forms stay the library's own.
void* operator new(std::size_t size) {
    if (g_counting) ++g_news;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    if (g_counting) ++g_news;
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& nt) noexcept { return operator new(size, nt); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
