// The libFuzzer side of one target: SG_FUZZ_TARGET names its entry in
// fuzz_entries.hpp (meson.build compiles this file once per target). An
// invariant that does not hold is a crash: libFuzzer keeps the input.

#include <cstdio>
#include <cstdlib>

#include "fuzz_entries.hpp"

#ifndef SG_FUZZ_TARGET
#error "SG_FUZZ_TARGET must name the entry (meson.build sets it)"
#endif
#define SG_STR2(x) #x
#define SG_STR(x) SG_STR2(x)

extern "C" int LLVMFuzzerInitialize(int*, char***) {
#ifdef SG_FUZZ_INIT
    if (!sg::fuzz::SG_FUZZ_INIT()) std::abort();
#endif
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
    const std::string problem = sg::fuzz::SG_FUZZ_TARGET(data, size);
    if (!problem.empty()) {
        std::fprintf(stderr, "fuzz %s: %s\n", SG_STR(SG_FUZZ_TARGET), problem.c_str());
        std::abort();
    }
    return 0;
}
